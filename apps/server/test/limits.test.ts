/**
 * Hostile and oversize input, written as raw frames: each limit answers with its code, and the server goes on
 * serving other clients.
 */
import { join } from 'node:path';
import { connect } from '@proj/protocol';
import { encodeFrameHeader, FrameKind } from '@proj/protocol/wire';
import { listFiles, sha256Hex } from '@proj/test-utils';
import { expectError, RawClient, startTestServer, waitFor, type TestServer } from './helpers';

describe('limits and protocol errors', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      output: 'file',
      limits: { maxFrameBytes: 64 * 1024, maxDictBytes: 4096, maxDictDepth: 8, maxFileBytes: 100_000 },
    });
  });
  afterAll(async () => {
    await t.stop();
  });
  afterEach(async () => {
    // After every hostile client, a well-behaved one is still served.
    const client = await connect({ port: t.server.port });
    await expect(client.sendDict({ still: 'fine' })).resolves.toMatchObject({ type: 'receipt' });
    await client.close();
    await waitFor(async () => (await listFiles(join(t.dataDir, 'tmp'))).length === 0);
  });

  async function fatal(c: RawClient, code: string): Promise<void> {
    await expectError(c, code, true);
    await c.closed();
  }

  it('ERR_FRAME_TOO_LARGE before the handshake (1 MiB default), checked on the header alone', async () => {
    const c = await RawClient.connect(t.server.port);
    c.raw(encodeFrameHeader(FrameKind.Control, 2 * 1024 * 1024));
    await fatal(c, 'ERR_FRAME_TOO_LARGE');
  });

  it('ERR_FRAME_TOO_LARGE after the handshake, at the configured limit', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'f', name: 'a.bin' });
    await c.next();
    c.raw(encodeFrameHeader(FrameKind.Data, 64 * 1024 + 1));
    await fatal(c, 'ERR_FRAME_TOO_LARGE');
  });

  it('ERR_FRAME_KIND', async () => {
    const c = await RawClient.connect(t.server.port);
    c.raw(Buffer.from([0, 0, 0, 1, 0x07, 0]));
    await fatal(c, 'ERR_FRAME_KIND');
  });

  it.each([
    ['not JSON', Buffer.from('hello there')],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['an unknown field', Buffer.from(JSON.stringify({ type: 'hello', version: 1, admin: true }))],
    ['an unknown type', Buffer.from(JSON.stringify({ type: 'shell', cmd: 'rm -rf /' }))],
    ['a null field', Buffer.from(JSON.stringify({ type: 'hello', version: 1, agent: null }))],
  ])('ERR_BAD_MESSAGE for %s', async (_what, payload) => {
    const c = await RawClient.connect(t.server.port);
    c.raw(Buffer.concat([encodeFrameHeader(FrameKind.Control, payload.length), payload]));
    await fatal(c, 'ERR_BAD_MESSAGE');
  });

  it('ERR_UNEXPECTED_MESSAGE for a put before hello', async () => {
    const c = await RawClient.connect(t.server.port);
    c.control({ type: 'put_dict', id: 'x', format: 'json', bytes: 2 });
    await fatal(c, 'ERR_UNEXPECTED_MESSAGE');
  });

  it('ERR_UNEXPECTED_MESSAGE for a data frame outside a put, and for a second hello', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.data(Buffer.from('stray'));
    await fatal(c, 'ERR_UNEXPECTED_MESSAGE');
    const d = await RawClient.welcomed(t.server.port);
    d.control({ type: 'hello', version: 1 });
    await fatal(d, 'ERR_UNEXPECTED_MESSAGE');
  });

  it('ERR_VERSION', async () => {
    const c = await RawClient.connect(t.server.port);
    c.control({ type: 'hello', version: 2 });
    await fatal(c, 'ERR_VERSION');
  });

  it('ERR_DICT_TOO_LARGE when declared (fatal)', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_dict', id: 'big', format: 'json', bytes: 4097 });
    await fatal(c, 'ERR_DICT_TOO_LARGE');
  });

  it('ERR_SIZE_MISMATCH when a dictionary sends more than it declared (fatal: the stream is out of step)', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_dict', id: 'd', format: 'json', bytes: 2 });
    c.data(Buffer.from('{"a":1}'));
    await fatal(c, 'ERR_SIZE_MISMATCH');
  });

  const deep = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  it.each([
    ['ERR_DICT_TOO_DEEP', 'json', deep(9)],
    ['ERR_DECODE', 'json', '{"a": '],
    ['ERR_DICT_INVALID', 'json', '[1, 2, 3]'],
    ['ERR_XML_FORBIDDEN', 'xml', '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><dict/>'],
    ['ERR_DECODE', 'xml', '<dict><unclosed></dict>'],
    ['ERR_DECODE', 'protobuf', '\u00ff\u00ff\u00ff'],
  ])('%s for a bad %s dictionary, and the session goes on', async (code, format, body) => {
    const c = await RawClient.welcomed(t.server.port);
    const bytes = Buffer.from(body, 'latin1');
    c.control({ type: 'put_dict', id: 'bad-1', format, bytes: bytes.length });
    c.data(bytes);
    expect(await c.next()).toMatchObject({ type: 'error', code, id: 'bad-1', fatal: false });
    const ok = Buffer.from(deep(8));
    c.control({ type: 'put_dict', id: 'good-1', format: 'json', bytes: ok.length });
    c.data(ok);
    expect(await c.next()).toMatchObject({ type: 'receipt', id: 'good-1', sha256: sha256Hex(ok) });
    c.destroy();
  });

  it('a dictionary that fails leaves nothing stored under its id', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_dict', id: 'never', format: 'json', bytes: 3 });
    c.data(Buffer.from('{{{'));
    await expectError(c, 'ERR_DECODE', false);
    c.destroy();
    const client = await connect({ port: t.server.port });
    await expect(client.sendDict({ now: 'ok' }, { id: 'never' })).resolves.toMatchObject({ duplicate: false });
    await client.close();
  });

  it('ERR_FILE_TOO_LARGE when declared, before any byte moves', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'f1', name: 'a.bin', size: 100_001 });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_FILE_TOO_LARGE', id: 'f1', fatal: false });
    c.destroy();
  });

  it('ERR_FILE_TOO_LARGE mid-stream: data is then ignored until file_end, unanswered', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'f2', name: 'a.bin' });
    expect(await c.next()).toMatchObject({ type: 'ready', id: 'f2' });
    for (let i = 0; i < 3; i++) c.data(Buffer.alloc(40_000));
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_FILE_TOO_LARGE', id: 'f2', fatal: false });
    c.data(Buffer.alloc(40_000)); // still in flight: ignored
    c.control({ type: 'file_end', id: 'f2', bytes: 160_000, sha256: '0'.repeat(64) });
    c.control({ type: 'ping', nonce: 'n' });
    expect(await c.next()).toEqual({ type: 'pong', nonce: 'n' });
    c.destroy();
  });

  it('the client library sees ERR_FILE_TOO_LARGE while streaming and cancels', async () => {
    const client = await connect({ port: t.server.port });
    async function* body(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 20; i++) yield Buffer.alloc(10_000);
    }
    await expect(client.sendStream(body(), { name: 'x.bin', chunkBytes: 10_000 })).rejects.toMatchObject({
      code: 'ERR_FILE_TOO_LARGE',
    });
    await expect(client.sendDict({ after: true })).resolves.toMatchObject({ type: 'receipt' });
    await client.close();
  });

  it('ERR_SIZE_MISMATCH against the declared size, and against file_end', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 's1', name: 'a.bin', size: 10 });
    await c.next();
    c.data(Buffer.alloc(5));
    c.control({ type: 'file_end', id: 's1', bytes: 5, sha256: sha256Hex(Buffer.alloc(5)) });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_SIZE_MISMATCH', id: 's1', fatal: false });
    c.control({ type: 'put_file', id: 's2', name: 'a.bin' });
    await c.next();
    c.data(Buffer.alloc(5));
    c.control({ type: 'file_end', id: 's2', bytes: 6, sha256: sha256Hex(Buffer.alloc(5)) });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_SIZE_MISMATCH', id: 's2', fatal: false });
    c.control({ type: 'put_file', id: 's3', name: 'a.bin', size: 4 });
    await c.next();
    c.data(Buffer.alloc(5));
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_SIZE_MISMATCH', id: 's3', fatal: false });
    c.control({ type: 'cancel', id: 's3' });
    c.destroy();
  });

  it('past a declared size, ERR_SIZE_MISMATCH even when the same bytes pass maxFileBytes too', async () => {
    // The size is at most maxFileBytes, so the bytes pass it first: the code cannot depend on how they are split.
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'm1', name: 'a.bin', size: 100_000 });
    expect(await c.next()).toMatchObject({ type: 'ready', id: 'm1' });
    c.data(Buffer.alloc(50_000));
    c.data(Buffer.alloc(50_000));
    c.data(Buffer.alloc(1));
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_SIZE_MISMATCH', id: 'm1', fatal: false });
    c.control({ type: 'cancel', id: 'm1' });
    // Without a declared size, passing maxFileBytes is ERR_FILE_TOO_LARGE.
    c.control({ type: 'put_file', id: 'm2', name: 'a.bin' });
    expect(await c.next()).toMatchObject({ type: 'ready', id: 'm2' });
    c.data(Buffer.alloc(50_000));
    c.data(Buffer.alloc(50_000));
    c.data(Buffer.alloc(1));
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_FILE_TOO_LARGE', id: 'm2', fatal: false });
    c.control({ type: 'cancel', id: 'm2' });
    c.control({ type: 'ping', nonce: 'after' });
    expect(await c.next()).toEqual({ type: 'pong', nonce: 'after' });
    c.destroy();
  });

  it('ERR_CHECKSUM_MISMATCH, and nothing stored', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'c1', name: 'a.bin' });
    await c.next();
    c.data(Buffer.from('hello'));
    c.control({ type: 'file_end', id: 'c1', bytes: 5, sha256: sha256Hex(Buffer.from('hellO')) });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_CHECKSUM_MISMATCH', id: 'c1', fatal: false });
    c.destroy();
    expect((await listFiles(join(t.dataDir, 'items'))).some((f) => f.includes('-c1-'))).toBe(false);
  });

  it('ERR_OFFSET for a resume offset', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'o1', name: 'a.bin', offset: 10 });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_OFFSET', id: 'o1', fatal: false });
    c.destroy();
  });

  it('ERR_UNEXPECTED_MESSAGE for a file_end of another id', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'u1', name: 'a.bin' });
    await c.next();
    c.control({ type: 'file_end', id: 'u2', bytes: 0, sha256: sha256Hex(Buffer.alloc(0)) });
    await fatal(c, 'ERR_UNEXPECTED_MESSAGE');
  });
});

describe('timeouts and connection limits', () => {
  it('ERR_TIMEOUT when no hello comes within the handshake timeout', async () => {
    const t = await startTestServer({ limits: { handshakeTimeoutMs: 150 } });
    try {
      const c = await RawClient.connect(t.server.port);
      await expectError(c, 'ERR_TIMEOUT', true);
      await c.closed();
    } finally {
      await t.stop();
    }
  });

  it('ERR_TIMEOUT when a welcomed client stays silent past the idle timeout, even mid-file', async () => {
    const t = await startTestServer({ limits: { idleTimeoutMs: 200 } });
    try {
      const c = await RawClient.welcomed(t.server.port);
      await expectError(c, 'ERR_TIMEOUT', true);
      const d = await RawClient.welcomed(t.server.port);
      d.control({ type: 'put_file', id: 'slow', name: 'a.bin' });
      await d.next();
      d.data(Buffer.from('abc'));
      await expectError(d, 'ERR_TIMEOUT', true);
      await d.closed();
      await waitFor(async () => (await listFiles(join(t.dataDir, 'tmp'))).length === 0);
      // The client library keeps an idle connection alive with pings.
      const client = await connect({ port: t.server.port });
      await new Promise((r) => setTimeout(r, 500));
      await expect(client.sendDict({ alive: true })).resolves.toMatchObject({ type: 'receipt' });
      await client.close();
    } finally {
      await t.stop();
    }
  });

  it('ERR_TOO_MANY_CONNECTIONS past maxConnections; a slot frees when a client leaves', async () => {
    const t = await startTestServer({ limits: { maxConnections: 2 } });
    try {
      const a = await connect({ port: t.server.port });
      const b = await connect({ port: t.server.port });
      await expect(connect({ port: t.server.port })).rejects.toMatchObject({ code: 'ERR_TOO_MANY_CONNECTIONS' });
      await a.close();
      const isFree = async (): Promise<boolean> => {
        try {
          const c = await connect({ port: t.server.port });
          await c.close();
          return true;
        } catch {
          return false;
        }
      };
      let free = false;
      for (let i = 0; i < 50 && !free; i++) free = await isFree();
      expect(free).toBe(true);
      await b.close();
    } finally {
      await t.stop();
    }
  });
});
