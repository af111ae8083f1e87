import { buildDictionary, chooseFormat } from '../src/interactive/dict-builder';
import { toDict } from '../src/interactive/draft';
import { CANCEL, ESC, ScriptedPrompter } from './helpers/scripted-prompter';

async function build(p: ScriptedPrompter) {
  const outcome = await buildDictionary(p, p);
  p.assertDone();
  return outcome.kind === 'done' ? toDict(outcome.draft) : undefined;
}

describe('building a dictionary at the prompt', () => {
  it('builds entries of every kind, with a nested dictionary and a list', async () => {
    const p = new ScriptedPrompter([
      ['dict.action', 'add'],
      ['dict.key', 'name'],
      ['value.kind', 'text'],
      ['value.text', 'Ada'],
      ['dict.action', 'add'],
      ['dict.key', 'age'],
      ['value.kind', 'number'],
      ['value.number', '36'],
      ['dict.action', 'add'],
      ['dict.key', 'admin'],
      ['value.kind', 'true'],
      ['dict.action', 'add'],
      ['dict.key', 'banned'],
      ['value.kind', 'false'],
      ['dict.action', 'add'],
      ['dict.key', 'manager'],
      ['value.kind', 'null'],
      ['dict.action', 'add'],
      ['dict.key', 'address'],
      ['value.kind', 'dictionary'],
      ['dict.nested.action', 'add'],
      ['dict.key', 'city'],
      ['value.kind', 'text'],
      ['value.text', 'London'],
      ['dict.nested.action', 'done'],
      ['dict.action', 'add'],
      ['dict.key', 'tags'],
      ['value.kind', 'list'],
      ['list.action', 'add'],
      ['value.kind', 'text'],
      ['value.text', 'math'],
      ['list.action', 'add'],
      ['value.kind', 'number'],
      ['value.number', '1.5e2'],
      ['list.action', 'done'],
      ['dict.action', 'review'],
      ['dict.action', 'done'],
    ]);
    const dict = await build(p);
    expect(dict).toEqual({
      name: 'Ada',
      age: 36,
      admin: true,
      banned: false,
      manager: null,
      address: { city: 'London' },
      tags: ['math', 150],
    });
    expect(Object.keys(dict ?? {})).toEqual(['name', 'age', 'admin', 'banned', 'manager', 'address', 'tags']);
    // Review shows the whole dictionary as indented JSON.
    expect(p.said).toContain(JSON.stringify(dict, null, 2));
    expect(p.warned).toEqual([]);
  });

  it('gives a second chance after a blank key, a duplicate key and a number that is not one', async () => {
    const p = new ScriptedPrompter([
      ['dict.action', 'add'],
      ['dict.key', 'a'],
      ['value.kind', 'number'],
      ['value.number', 'twelve'],
      ['value.number', '0x0C'],
      ['value.number', '12'],
      ['dict.action', 'add'],
      ['dict.key', 'a'],
      ['dict.key', 'b'],
      ['value.kind', 'null'],
      ['dict.action', 'done'],
    ]);
    expect(await build(p)).toEqual({ a: 12, b: null });
    expect(p.warned).toHaveLength(3);
    expect(p.warned[0]).toMatch(/"twelve" is not a number/);
    expect(p.warned[1]).toMatch(/"0x0C" is not a number/);
    expect(p.warned[2]).toMatch(/"a" is already in this dictionary/);
  });

  it('goes back one step on Esc or an empty key, and keeps the draft when leaving the menu', async () => {
    const p = new ScriptedPrompter([
      ['dict.action', 'add'],
      ['dict.key', ''], // empty: back to the menu
      ['dict.action', 'add'],
      ['dict.key', ESC], // Esc: back to the menu
      ['dict.action', 'add'],
      ['dict.key', 'k'],
      ['value.kind', ESC], // back to the key, offered again as the default
      ['dict.key', ''],
      ['value.kind', 'number'],
      ['value.number', ESC], // back to the kind
      ['value.kind', 'list'],
      ['list.action', 'add'],
      ['value.kind', 'json'],
      ['value.json', '[1, 2'], // refused in place
      ['value.json', '{"deep": [true]}'],
      ['list.action', ESC], // a nested menu: Esc is "Done"
      ['dict.action', ESC], // the root menu: back, draft kept
    ]);
    const outcome = await buildDictionary(p, p);
    p.assertDone();
    expect(outcome.kind).toBe('back');
    expect(outcome.kind !== 'discard' && toDict(outcome.draft)).toEqual({ k: [{ deep: [true] }] });
    expect(p.warned).toEqual([expect.stringMatching(/^json: .*\(ERR_DECODE\)$/)]);
  });

  it('pastes a whole dictionary, refusing what the protocol refuses with its codes, and confirms replacing', async () => {
    const p = new ScriptedPrompter([
      ['dict.action', 'add'],
      ['dict.key', 'old'],
      ['value.kind', 'true'],
      ['dict.action', 'paste'],
      ['dict.paste', ['[1, 2]']],
      ['dict.paste', [`{"a": ${'['.repeat(40)}${']'.repeat(40)}}`]],
      ['dict.paste', ['{', '  "name": "Ada",', '  "tags": ["x", 1e3]', '}']],
      ['dict.paste.replace', false],
      ['dict.action', 'paste'],
      ['dict.paste', ['{"name": "Ada", "tags": ["x", 1e3]}']],
      ['dict.paste.replace', true],
      ['dict.action', 'done'],
    ]);
    expect(await build(p)).toEqual({ name: 'Ada', tags: ['x', 1000] });
    expect(p.warned).toEqual([
      expect.stringMatching(/^a dictionary must be an object at the root.*\(ERR_DICT_INVALID\)\. Paste it again/),
      expect.stringMatching(/^.*\(ERR_DICT_TOO_DEEP\)\. Paste it again/),
    ]);
  });

  it('checks a JSON value where it goes: nesting counted from the root, errors with the full path', async () => {
    const p = new ScriptedPrompter([
      ['dict.action', 'add'],
      ['dict.key', 'outer'],
      ['value.kind', 'dictionary'],
      ['dict.nested.action', 'add'],
      ['dict.key', 'v'],
      ['value.kind', 'json'],
      ['value.json', '"\\ud800"'],
      ['value.json', `${'['.repeat(31)}${']'.repeat(31)}`],
      ['value.json', '1e999'],
      ['value.json', '1, "w": 2'],
      ['value.json', '-0'],
      ['dict.nested.action', 'done'],
      ['dict.action', 'done'],
    ]);
    const dict = await build(p);
    expect(Object.is(dict?.outer && (dict.outer as { v: number }).v, -0)).toBe(true);
    expect(p.warned).toEqual([
      expect.stringMatching(/^string at \$\.outer\.v holds a lone surrogate.*\(ERR_DICT_INVALID\)$/),
      expect.stringMatching(/^.*\(ERR_DICT_TOO_DEEP\)$/),
      expect.stringMatching(/^number at \$\.outer\.v is not finite.*\(ERR_DICT_INVALID\)$/),
      expect.stringMatching(/^json: .*\(ERR_DECODE\)$/),
    ]);
  });

  it('asks before discarding a dictionary that has entries', async () => {
    const p = new ScriptedPrompter([
      ['dict.action', 'add'],
      ['dict.key', 'a'],
      ['value.kind', 'null'],
      ['dict.action', 'discard'],
      ['dict.discard', false],
      ['dict.action', 'discard'],
      ['dict.discard', ESC],
      ['dict.action', 'discard'],
      ['dict.discard', true],
    ]);
    expect(await build(p)).toBeUndefined();
  });

  it('edits a value, edits inside a nested dictionary, replaces a list, and removes an entry', async () => {
    const p = new ScriptedPrompter([
      ['dict.action', 'add'],
      ['dict.key', 'x'],
      ['value.kind', 'text'],
      ['value.text', 'old'],
      ['dict.action', 'add'],
      ['dict.key', 'inner'],
      ['value.kind', 'dictionary'],
      ['dict.nested.action', 'add'],
      ['dict.key', 'k'],
      ['value.kind', 'true'],
      ['dict.nested.action', 'done'],
      ['dict.action', 'add'],
      ['dict.key', 'gone'],
      ['value.kind', 'null'],
      ['dict.action', 'add'],
      ['dict.key', 'l'],
      ['value.kind', 'list'],
      ['list.action', 'add'],
      ['value.kind', 'true'],
      ['list.action', 'done'],
      // x: text -> number
      ['dict.action', 'edit'],
      ['dict.edit.key', '0'],
      ['value.kind', 'number'],
      ['value.number', '-7'],
      // inner.k: true -> false, and a new key in it
      ['dict.action', 'edit'],
      ['dict.edit.key', '1'],
      ['edit.mode', 'inside'],
      ['dict.nested.action', 'edit'],
      ['dict.edit.key', '0'],
      ['value.kind', 'false'],
      ['dict.nested.action', 'add'],
      ['dict.key', 'k'],
      ['dict.key', 'k2'],
      ['value.kind', 'text'],
      ['value.text', ''],
      ['dict.nested.action', 'done'],
      ['dict.action', 'remove'],
      ['dict.remove.key', '2'],
      // l: list -> edit the item inside, then remove it, then replace the list by a text
      ['dict.action', 'edit'],
      ['dict.edit.key', '2'],
      ['edit.mode', 'inside'],
      ['list.action', 'edit'],
      ['list.edit.index', '0'],
      ['value.kind', 'number'],
      ['value.number', '1'],
      ['list.action', 'add'],
      ['value.kind', 'null'],
      ['list.action', 'remove'],
      ['list.remove.index', '0'],
      ['list.action', 'done'],
      ['dict.action', 'done'],
    ]);
    expect(await build(p)).toEqual({ x: -7, inner: { k: false, k2: '' }, l: [null] });
    expect(p.warned).toEqual([expect.stringMatching(/"k" is already/)]);
  });

  it('does not offer edit or remove while the dictionary is empty', async () => {
    const p = new ScriptedPrompter([['dict.action', 'discard']]);
    expect(await build(p)).toBeUndefined();
    const offered = p.offered.get('dict.action') ?? [];
    expect(offered.find((c) => c.name === 'edit')?.disabled).toBeDefined();
    expect(offered.find((c) => c.name === 'remove')?.disabled).toBeDefined();
  });

  it('treats Ctrl-C at any prompt as leaving', async () => {
    const p = new ScriptedPrompter([
      ['dict.action', 'add'],
      ['dict.key', 'a'],
      ['value.kind', CANCEL],
    ]);
    await expect(buildDictionary(p, p)).rejects.toMatchObject({ code: 'ERR_INTERRUPTED' });
  });

  it('names the formats binary, JSON and XML', async () => {
    for (const [answer, format] of [
      ['protobuf', 'protobuf'],
      ['json', 'json'],
      ['xml', 'xml'],
    ] as const) {
      const p = new ScriptedPrompter([['dict.format', answer]]);
      expect(await chooseFormat(p)).toBe(format);
      expect(p.offered.get('dict.format')?.map((c) => c.message)).toEqual(['binary', 'JSON', 'XML']);
    }
  });
});
