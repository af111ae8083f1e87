import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { connect } from '@proj/protocol';
import { listFiles } from '@proj/test-utils';
import { cleanName } from '../src/index';
import { chunks, RawClient, startTestServer, type TestServer } from './helpers';

describe('cleanName', () => {
  it.each([
    ['report.txt', 'report.txt'],
    ['../../etc/passwd', 'passwd'],
    ['/etc/shadow', 'shadow'],
    ['C:\\Windows\\system32\\cmd.exe', 'cmd.exe'],
    ['a/b\\c.txt', 'c.txt'],
    ['dir/', 'dir'],
    ['evil\u0000name.txt', 'evil_name.txt'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['LPT1.log', '_LPT1.log'],
    ['.hidden', 'hidden'],
    ['name. ', 'name'],
    ['sp ace & "quotes"?.md', 'sp_ace_quotes_.md'],
    ['naïve-résumé.txt', 'naïve-résumé.txt'],
    ['new\nline\r.txt', 'new_line_.txt'],
    ['a..b...txt', 'a.b.txt'],
    ['C:\\Users\\me\\My Report (final).PDF', 'My_Report_final_.PDF'],
    ['e\u0301t\u00e9.txt', '\u00e9t\u00e9.txt'],
    ['a\ud800b', 'a_b'],
    ['__init__.py', 'init_.py'],
    ['-.-', undefined],
  ])('%j -> %j', (input, expected) => {
    if (expected === undefined)
      expect(() => cleanName(input)).toThrow(expect.objectContaining({ code: 'ERR_NAME_INVALID' }));
    else expect(cleanName(input)).toBe(expected);
  });

  it.each(['.', '..', '/', '\\', '../..', '...', '\u0000', ' ', '*?'])('refuses %j with ERR_NAME_INVALID', (input) => {
    expect(() => cleanName(input)).toThrow(expect.objectContaining({ code: 'ERR_NAME_INVALID' }));
  });

  it('cuts long names to 100 bytes, keeping the extension and whole characters', () => {
    const long = cleanName(`${'é'.repeat(600)}.txt`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(100);
    expect(long.endsWith('.txt')).toBe(true);
    expect(long.startsWith('éé')).toBe(true);
    expect(cleanName('x'.repeat(1024))).toBe('x'.repeat(100));
  });

  it('an extension is at most 17 characters with its dot; a longer one is part of the stem', () => {
    expect(cleanName(`${'a'.repeat(200)}.${'b'.repeat(16)}`)).toBe(`${'a'.repeat(83)}.${'b'.repeat(16)}`);
    expect(cleanName(`${'a'.repeat(200)}.${'b'.repeat(17)}`)).toBe('a'.repeat(100));
    // Counted in code points: 16 letters above U+FFFF (4 UTF-8 bytes, 2 UTF-16 code units each) are an extension.
    const wide = '\u{1D400}'.repeat(16);
    expect(cleanName(`${'a'.repeat(200)}.${wide}`)).toBe(`${'a'.repeat(35)}.${wide}`);
  });

  it('a cut never leaves a dot or an underscore at the end of the stem (no `..`, no trailing dot)', () => {
    expect(cleanName(`${'x'.repeat(95)}.yyy.txt`)).toBe(`${'x'.repeat(95)}.txt`);
    expect(cleanName(`${'x'.repeat(95)}_yyy.txt`)).toBe(`${'x'.repeat(95)}.txt`);
    expect(cleanName(`${'x'.repeat(99)}.${'y'.repeat(30)}`)).toBe('x'.repeat(99));
  });
});

describe('path tricks over the wire', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ output: 'file' });
  });
  afterAll(async () => {
    await t.stop();
  });

  const tricky = [
    '../../../../../../tmp/escape.txt',
    '/etc/passwd',
    '..\\..\\windows\\win.ini',
    'nul\u0000byte.txt',
    'CON',
    'aux.txt',
    `${'a'.repeat(1000)}.txt`,
    'dir/sub/file.txt',
    'back\\slash\\file.txt',
    '~/.ssh/authorized_keys',
    'dots..in..the..middle',
    `${'x'.repeat(95)}.yyy.txt`,
    `${'x'.repeat(99)}.${'y'.repeat(30)}`,
  ];

  it.each(tricky)('stores %j inside items/ of the data directory', async (name) => {
    const client = await connect({ port: t.server.port });
    const receipt = await client.sendStream(chunks(Buffer.from('x')), { name });
    await client.close();
    expect(receipt.path).toMatch(/^items\/\d{4}-\d{2}-\d{2}\/[^/\\]+$/);
    expect(receipt.path).not.toContain('..');
    const full = resolve(t.dataDir, receipt.path);
    expect(full.startsWith(`${join(t.dataDir, 'items')}/`)).toBe(true);
    const base = receipt.path.split('/')[2] as string;
    expect(Buffer.byteLength(base)).toBeLessThan(255);
    expect(base).not.toMatch(/[\u0000-\u001f\\:*?"<>|]/);
  });

  it('keeps .. out of paths made from ids too', async () => {
    const client = await connect({ port: t.server.port });
    const receipt = await client.sendDict({ a: 1 }, { id: 'a..b' });
    await client.close();
    expect(receipt.path).not.toContain('..');
    expect(receipt.path).toMatch(/-a\.b-dict\.json$/);
  });

  it.each(['.', '..', '/', '...'])('refuses %j with ERR_NAME_INVALID and goes on', async (name) => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'bad-name', name });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_NAME_INVALID', id: 'bad-name', fatal: false });
    c.control({ type: 'ping' });
    expect(await c.next()).toEqual({ type: 'pong' });
    c.destroy();
  });

  it('left nothing outside items/, receipts/, tmp/, journal/, an empty partials/ and the identity', async () => {
    const top = (await readdir(t.dataDir)).sort();
    expect(top).toEqual(['identity.txt', 'items', 'journal', 'locks', 'partials', 'receipts', 'tmp']);
    expect(await readdir(join(t.dataDir, 'partials'))).toEqual([]);
    const files = await listFiles(join(t.dataDir, 'items'));
    expect(files.length).toBe(tricky.length + 1);
    for (const f of files) expect(f.split('/').length).toBe(2);
  });
});
