import { buildDictionary, chooseFormat } from '../src/interactive/dict-builder';
import { toDict } from '../src/interactive/draft';
import { CANCEL, ScriptedPrompter } from './helpers/scripted-prompter';

async function build(p: ScriptedPrompter) {
  const draft = await buildDictionary(p, p);
  p.assertDone();
  return draft && toDict(draft);
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

  it('gives a second chance after an empty key, a duplicate key and a number that is not one', async () => {
    const p = new ScriptedPrompter([
      ['dict.action', 'add'],
      ['dict.key', 'a'],
      ['value.kind', 'number'],
      ['value.number', 'twelve'],
      ['value.number', '0x0C'],
      ['value.number', '12'],
      ['dict.action', 'add'],
      ['dict.key', ''],
      ['dict.key', 'a'],
      ['dict.key', 'b'],
      ['value.kind', 'null'],
      ['dict.action', 'done'],
    ]);
    expect(await build(p)).toEqual({ a: 12, b: null });
    expect(p.warned).toHaveLength(4);
    expect(p.warned[0]).toMatch(/"twelve" is not a number/);
    expect(p.warned[1]).toMatch(/"0x0C" is not a number/);
    expect(p.warned[2]).toMatch(/cannot be empty/);
    expect(p.warned[3]).toMatch(/"a" is already in this dictionary/);
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
