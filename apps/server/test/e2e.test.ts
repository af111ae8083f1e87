import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '@proj/protocol';
import { encodeDict, type Dict } from '@proj/protocol/dict';
import { listFiles, makeTempDir, sha256File, sha256Hex } from '@proj/test-utils';
import { listReceived } from '../src/index';
import { SCREEN_MAX_LINES } from '../src/output/output';
import { chunks, startTestServer, waitFor, type TestServer } from './helpers';

const sample: Dict = { name: 'Ada', age: 36, tags: ['math', 'engines'], nested: { ok: true, none: null, pi: 3.14 } };

describe('end to end', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ output: 'both' });
  });
  afterEach(async () => {
    await t.stop();
  });

  it.each([
    ['json', 'json'],
    ['xml', 'xml'],
    ['protobuf', 'pb'],
  ] as const)('stores a %s dictionary with the bytes sent, and prints it', async (format, ext) => {
    const client = await connect({ port: t.server.port });
    const bytes = encodeDict(sample, format);
    const receipt = await client.sendDictBytes(bytes, { format, id: `dict-${format}-1` });
    await client.close();

    expect(receipt).toMatchObject({
      kind: 'dict',
      format,
      bytes: bytes.length,
      sha256: sha256Hex(bytes),
      encrypted: false,
      duplicate: false,
    });
    expect(receipt.path).toMatch(
      new RegExp(`^items/\\d{4}-\\d{2}-\\d{2}/\\d{6}-${t.server.serverId}-dict-${format}-1-dict\\.${ext}$`),
    );
    const stored = join(t.dataDir, receipt.path);
    expect(Buffer.compare(await readFile(stored), Buffer.from(bytes))).toBe(0);
    expect(await sha256File(stored)).toBe(receipt.sha256);

    const out = t.stdout();
    expect(out).toContain(`saved dict dict-${format}-1 from 127.0.0.1:`);
    expect(out).toContain('"name": "Ada"');
    expect(out).toMatch(/client 127\.0\.0\.1:\d+ connected/);
    await waitFor(() => /client 127\.0\.0\.1:\d+ disconnected: 1 dict, 0 files/.test(t.stdout()));
  });

  it('streams a text file to disk and checks its SHA-256', async () => {
    const tmp = await makeTempDir();
    try {
      const text = 'line one\nline two\n'.repeat(50_000); // ~900 KiB: several data frames
      const src = join(tmp.path, 'notes.txt');
      await writeFile(src, text);
      const client = await connect({ port: t.server.port });
      const receipt = await client.sendFile(src, { id: 'file-1', chunkBytes: 64 * 1024 });
      await client.close();
      expect(receipt).toMatchObject({
        kind: 'file',
        bytes: Buffer.byteLength(text),
        encrypted: false,
        duplicate: false,
      });
      expect(receipt.path).toMatch(/-file-1-notes\.txt$/);
      const stored = join(t.dataDir, receipt.path);
      expect(await sha256File(stored)).toBe(await sha256File(src));
      expect(receipt.sha256).toBe(await sha256File(src));
      expect(t.stdout()).toContain('line two');
      // The screen shows a glance: SCREEN_MAX_LINES lines of 9 bytes (docs/SERVER.md, "What the server prints").
      expect(t.stdout()).toContain(`(shown: the first ${SCREEN_MAX_LINES * 9} B; the rest is in the file)`);
      // No temporaries left behind.
      expect(await listFiles(join(t.dataDir, 'tmp'))).toEqual([]);
    } finally {
      await tmp.remove();
    }
  });

  it('indexes every item for `list`', async () => {
    const client = await connect({ port: t.server.port });
    const r1 = await client.sendDict(sample, { id: 'a-1' });
    const r2 = await client.sendStream(chunks(Buffer.from('hello\n')), { id: 'a-2', name: 'hello.txt', size: 6 });
    await client.close();
    const items = await listReceived(t.dataDir);
    expect(items.map((i) => [i.id, i.kind, i.path, i.bytes, i.sha256])).toEqual([
      ['a-1', 'dict', r1.path, r1.bytes, r1.sha256],
      ['a-2', 'file', r2.path, r2.bytes, r2.sha256],
    ]);
    expect(items[1]).toMatchObject({
      name: 'hello.txt',
      encrypted: false,
      sender: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    expect(items[0]).toMatchObject({ format: 'json', receivedAt: r1.receivedAt });
  });

  it('answers ping, and bye with bye', async () => {
    const client = await connect({ port: t.server.port, keepAlive: false });
    await client.ping();
    await client.close();
    expect(client.isClosed).toBe(true);
  });
});

describe('output modes', () => {
  it.each(['screen', 'file'] as const)('%s', async (output) => {
    const t = await startTestServer({ output });
    try {
      const client = await connect({ port: t.server.port });
      await client.sendDict({ shown: 'yes' }, { id: 'o-1' });
      await client.sendStream(chunks(Buffer.from('file body\n')), { id: 'o-2', name: 'f.txt' });
      await client.close();
      const out = t.stdout();
      if (output === 'screen') {
        expect(out).toContain('"shown": "yes"');
        expect(out).toContain('file body');
        expect(out).not.toContain('saved ');
      } else {
        expect(out).toMatch(/saved dict o-1 from .* -> items\//);
        expect(out).toMatch(/saved file o-2 "f.txt" from .* -> items\//);
        expect(out).not.toContain('"shown": "yes"');
        expect(out).not.toContain('file body');
      }
    } finally {
      await t.stop();
    }
  });
});
