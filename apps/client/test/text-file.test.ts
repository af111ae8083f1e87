import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '@proj/test-utils';
import { checkExistingFile, checkFileName, chooseEncryption, chooseTextFile } from '../src/interactive/text-file';
import { ScriptedPrompter } from './helpers/scripted-prompter';

describe('making a text file at the prompt', () => {
  let tmp: { path: string; remove: () => Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir('client-text-');
  });
  afterEach(() => tmp.remove());

  it('takes a name and lines, and writes them to an owner-only temporary file', async () => {
    const p = new ScriptedPrompter([
      ['file.source', 'type'],
      ['file.name', ''],
      ['file.name', 'a/b.txt'],
      ['file.name', 'notes.txt'],
      ['file.lines', ['first line', '', 'third: é']],
    ]);
    const file = await chooseTextFile(p, p, {});
    p.assertDone();
    expect(file.name).toBe('notes.txt');
    expect(await readFile(file.path, 'utf8')).toBe('first line\n\nthird: é\n');
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
    expect(p.warned).toEqual([expect.stringMatching(/cannot be empty/), expect.stringMatching(/without \//)]);
    await file.remove();
    await expect(stat(file.path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('offers the editor only when $EDITOR is set', async () => {
    const p = new ScriptedPrompter([
      ['file.source', 'editor'],
      ['file.name', 'e.txt'],
      ['file.editor', 'from the editor\n'],
    ]);
    const file = await chooseTextFile(p, p, { EDITOR: 'vi' });
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
    const file = await chooseTextFile(p, p, {});
    p.assertDone();
    expect(file).toMatchObject({ path: existing, name: 'report.txt' });
    expect(p.warned[0]).toMatch(/There is no file at .*missing\.txt/);
    expect(p.warned[1]).toMatch(/not a regular file/);
    await file.remove();
    expect(await readFile(existing, 'utf8')).toBe('data'); // a picked file is never deleted
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
