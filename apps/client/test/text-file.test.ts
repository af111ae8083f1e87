import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '@proj/test-utils';
import { checkExistingFile, checkFileName, chooseEncryption, chooseTextFile } from '../src/interactive/text-file';
import { BACK } from '../src/interactive/back';
import { ESC, ScriptedPrompter } from './helpers/scripted-prompter';

function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}

describe('making a text file at the prompt', () => {
  let tmp: { path: string; remove: () => Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir('client-text-');
  });
  afterEach(() => tmp.remove());

  it('takes a name and lines, and writes them to an owner-only temporary file', async () => {
    const p = new ScriptedPrompter([
      ['file.source', 'type'],
      ['file.name', ''], // empty: back to the source
      ['file.source', 'type'],
      ['file.name', 'a/b.txt'],
      ['file.name', 'notes.txt'],
      ['file.lines', ['first line', '', 'third: é']],
      ['file.review', 'send'],
    ]);
    const file = defined(await chooseTextFile(p, p, {}));
    p.assertDone();
    expect(file.name).toBe('notes.txt');
    expect(p.said).toContain('notes.txt: 3 lines, 22 bytes\n  │ first line\n  │ \n  │ third: é');
    expect(await readFile(file.path, 'utf8')).toBe('first line\n\nthird: é\n');
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
    expect(p.warned).toEqual([expect.stringMatching(/without \//)]);
    await file.remove();
    await expect(stat(file.path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('offers the editor only when $EDITOR is set', async () => {
    const p = new ScriptedPrompter([
      ['file.source', 'editor'],
      ['file.name', 'e.txt'],
      ['file.editor', 'from the editor\n'],
      ['file.review', 'send'],
    ]);
    const file = defined(await chooseTextFile(p, p, { EDITOR: 'vi' }));
    expect(await readFile(file.path, 'utf8')).toBe('from the editor\n');
    await file.remove();
    const q = new ScriptedPrompter([['file.source', 'editor']]);
    await expect(chooseTextFile(q, q, {})).rejects.toThrow(/disabled/);
  });

  it('picks an existing file, after a path that does not exist and a directory', async () => {
    const existing = join(tmp.path, 'report.txt');
    await writeFile(existing, 'data');
    await mkdir(join(tmp.path, 'dir'));
    const p = new ScriptedPrompter([
      ['file.source', 'disk'],
      ['file.path', join(tmp.path, 'missing.txt')],
      ['file.path', join(tmp.path, 'dir')],
      ['file.path', existing],
    ]);
    const file = defined(await chooseTextFile(p, p, {}));
    p.assertDone();
    expect(file).toMatchObject({ path: existing, name: 'report.txt' });
    expect(p.warned[0]).toMatch(/There is no file at .*missing\.txt/);
    expect(p.warned[1]).toMatch(/not a regular file/);
    await file.remove();
    expect(await readFile(existing, 'utf8')).toBe('data'); // a picked file is never deleted
  });

  it('reviews typed text: edit in $EDITOR, type again, rename; confirms sending it empty and discarding it', async () => {
    const p = new ScriptedPrompter([
      ['file.source', 'type'],
      ['file.name', 'a.txt'],
      ['file.lines', ['one']],
      ['file.review', 'edit'],
      ['file.editor', 'one, edited\n'],
      ['file.review', 'discard'],
      ['file.discard', false],
      ['file.review', 'retype'],
      ['file.lines', []],
      ['file.review', 'send'],
      ['file.empty', false],
      ['file.review', 'rename'],
      ['file.name', 'b.txt'],
      ['file.review', 'send'],
      ['file.empty', true],
    ]);
    const file = defined(await chooseTextFile(p, p, { EDITOR: 'vi' }));
    p.assertDone();
    expect(file.name).toBe('b.txt');
    expect(await readFile(file.path, 'utf8')).toBe('');
    expect(p.said).toEqual([
      'a.txt: 1 line, 4 bytes\n  │ one',
      'a.txt: 1 line, 12 bytes\n  │ one, edited',
      'a.txt: 1 line, 12 bytes\n  │ one, edited',
      'a.txt is empty (0 bytes).',
      'a.txt is empty (0 bytes).',
      'b.txt is empty (0 bytes).',
    ]);
    await file.remove();
  });

  it('goes back to the main menu on Esc at the first question, and confirms an empty file from disk', async () => {
    const empty = join(tmp.path, 'empty.txt');
    await writeFile(empty, '');
    const p = new ScriptedPrompter([
      ['file.source', 'disk'],
      ['file.path', empty],
      ['file.empty', false],
      ['file.path', ''], // back to the source
      ['file.source', 'type'],
      ['file.name', 'x.txt'],
      ['file.lines', ['typed']],
      ['file.review', ESC],
      ['file.discard', true],
      ['file.source', ESC],
    ]);
    expect(await chooseTextFile(p, p, {})).toBeUndefined();
    p.assertDone();
  });

  it('checks names and paths', async () => {
    expect(checkFileName('  ok.txt ')).toEqual({ value: 'ok.txt' });
    expect(checkFileName('..')).toHaveProperty('error');
    expect(checkFileName('x'.repeat(256))).toHaveProperty('error');
    expect(await checkExistingFile('')).toHaveProperty('error');
    expect(await checkExistingFile('report.txt', tmp.path)).toHaveProperty('error');
  });
});

describe('choosing encryption', () => {
  const recipient = 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq';

  it("defaults to the server's key when it has one", async () => {
    const p = new ScriptedPrompter([['file.encrypt', 'server']]);
    expect(await chooseEncryption(p, p, recipient)).toEqual({ kind: 'server' });
  });

  it("disables the server's key when the server has none", async () => {
    const p = new ScriptedPrompter([['file.encrypt', 'server']]);
    await expect(chooseEncryption(p, p, undefined)).rejects.toThrow(/disabled/);
  });

  it('has a way back: the Back choice, Esc, and Esc at the passphrase returns to the question', async () => {
    const p = new ScriptedPrompter([
      ['file.encrypt', 'passphrase'],
      ['passphrase', ESC],
      ['file.encrypt', 'back'],
    ]);
    expect(await chooseEncryption(p, p, recipient)).toBe(BACK);
    const q = new ScriptedPrompter([['file.encrypt', ESC]]);
    expect(await chooseEncryption(q, q, recipient)).toBe(BACK);
    p.assertDone();
  });

  it('asks a passphrase twice, until both match and it is not empty', async () => {
    const p = new ScriptedPrompter([
      ['file.encrypt', 'passphrase'],
      ['passphrase', ''],
      ['passphrase', 'one'],
      ['passphrase.again', 'two'],
      ['passphrase', 'correct horse'],
      ['passphrase.again', 'correct horse'],
    ]);
    expect(await chooseEncryption(p, p, recipient)).toEqual({ kind: 'passphrase', passphrase: 'correct horse' });
    expect(p.warned).toEqual([expect.stringMatching(/empty/), expect.stringMatching(/differ/)]);
    p.assertDone();
  });
});
