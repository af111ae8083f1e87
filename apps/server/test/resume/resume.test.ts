/**
 * Resuming a cut file put (docs/PROTOCOL.md §4, "Resuming"; docs/SERVER.md "Resume"), over real TCP against a
 * server in this process writing real files: cuts at many offsets, the offset and prefix SHA-256 of `ready`, the
 * whole file verified at the end, mismatching partials never stored, what discards a partial, and a version-1
 * client that keeps today's behaviour. Each resume sends only the missing bytes, counted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { encodeControlFrame, encodeFrameHeader, FrameKind, parseServerMessage } from '@proj/protocol/wire';
import { listFiles, specWireVector } from '@proj/test-utils';
import { listReceived } from '../../src/index';
import { startTestServer, waitFor, type TestServer } from '../helpers';
import { partialFiles, partialRecords, resumeClient } from './resume-client';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const SIZE = 3 * 1024 * 1024 + 12_345;
const source = randomBytes(SIZE);

let ts: TestServer;
/** Servers stopped by a test that started another on their data directory: their directory goes last. */
let retired: TestServer[] = [];
beforeEach(async () => {
  ts = await startTestServer();
});
afterEach(async () => {
  await ts.stop();
  for (const t of retired) await t.stop();
  retired = [];
});

/** Stops the server (within `graceMs`) and starts a new one on the same data directory. */
async function restart(graceMs?: number): Promise<void> {
  await ts.server.close(graceMs);
  retired.push(ts);
  ts = await startTestServer({ dataDir: ts.dataDir });
}

/** Waits until the server recorded a partial of `id` holding `durable` bytes (any count when undefined). */
async function partialHeld(id: string, durable?: number): Promise<number> {
  let held = -1;
  await waitFor(() => {
    const r = partialRecords(ts.dataDir).get(id);
    if (!r || (durable !== undefined && r.durable !== durable)) return false;
    held = r.durable;
    return true;
  });
  return held;
}

/** Puts `bytes` as `id` on a resume connection, from the offset the server answers; returns that offset. */
async function resumeAndFinish(
  id: string,
  bytes: Buffer,
  extra: object = {},
): Promise<{ offset: number; sent: number }> {
  const c = await resumeClient(ts.server.port);
  c.control({ type: 'put_file', id, name: 'big.bin', size: bytes.length, resume: true, ...extra });
  const ready = await c.next();
  expect(ready).toMatchObject({ type: 'ready', id });
  if (ready?.type !== 'ready') throw new Error('no ready');
  const { offset } = ready;
  if (offset > 0) expect(ready.sha256).toBe(sha(bytes.subarray(0, offset)));
  else expect(ready.sha256).toBeUndefined();
  c.data(bytes.subarray(offset));
  c.control({ type: 'file_end', id, bytes: bytes.length, sha256: sha(bytes) });
  const receipt = await c.next();
  expect(receipt).toMatchObject({ type: 'receipt', id, bytes: bytes.length, sha256: sha(bytes), duplicate: false });
  if (receipt?.type !== 'receipt') throw new Error('no receipt');
  expect(sha(readFileSync(join(ts.dataDir, receipt.path)))).toBe(sha(bytes));
  await c.cut();
  return { offset, sent: c.dataBytes };
}

async function expectNoItems(): Promise<void> {
  expect(await listFiles(join(ts.dataDir, 'items'))).toEqual([]);
  expect(await listFiles(join(ts.dataDir, 'receipts'))).toEqual([]);
  expect(await listReceived(ts.dataDir)).toEqual([]);
}

describe('negotiation', () => {
  test('the welcome lists resume', async () => {
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id: 'n1', name: 'x', resume: false });
    expect(await c.next()).toEqual({ type: 'ready', id: 'n1', offset: 0 });
    await c.cut();
  });

  test('a client without the capability keeps version 1: resume is an unknown field, a cut put leaves nothing', async () => {
    const v1 = await resumeClient(ts.server.port, []);
    v1.control({ type: 'put_file', id: 'v1', name: 'x', offset: 5 });
    expect(await v1.next()).toMatchObject({ type: 'error', code: 'ERR_OFFSET', id: 'v1', fatal: false });
    v1.control({ type: 'put_file', id: 'v1', name: 'x', size: SIZE });
    expect(await v1.next()).toEqual({ type: 'ready', id: 'v1', offset: 0 });
    v1.data(source.subarray(0, 100_000));
    await v1.flushed();
    await v1.cut();
    // The session is gone when no temporary is left.
    await waitFor(async () => (await listFiles(join(ts.dataDir, 'tmp'))).length === 0);
    expect(partialFiles(ts.dataDir)).toEqual([]);

    const again = await resumeClient(ts.server.port, ['x-other']);
    again.control({ type: 'put_file', id: 'v1', name: 'x', resume: true });
    expect(await again.next()).toMatchObject({ type: 'error', code: 'ERR_BAD_MESSAGE', fatal: true });
    await again.closed();
    // A resume connection finds nothing to continue.
    expect((await resumeAndFinish('v1', source)).offset).toBe(0);
  });
});

describe('a cut put continues from what the server holds', () => {
  // Cut after this many bytes of the file, sent in whole 256 KiB frames, then a piece of a frame.
  test.each([
    ['before any byte', 0, 0],
    ['after one byte', 1, 0],
    ['after whole frames', 3 * 256 * 1024, 0],
    ['mid-frame', 256 * 1024, 70_000],
    ['with every byte sent but no file_end', SIZE, 0],
  ])('%s', async (_name, whole, piece) => {
    const id = `cut-${whole}-${piece}`;
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id, name: 'big.bin', size: SIZE, resume: true });
    expect(await c.next()).toEqual({ type: 'ready', id, offset: 0 });
    c.data(source.subarray(0, whole));
    if (piece > 0) {
      // A frame announced at 200 000 bytes, cut after `piece` of them: those bytes arrived, and are kept.
      c.raw(encodeFrameHeader(FrameKind.Data, 200_000));
      c.raw(source.subarray(whole, whole + piece));
    }
    await c.flushed();
    await c.cut();
    const held = whole + piece;
    expect(await partialHeld(id, held)).toBe(held);
    await expectNoItems();

    const { offset, sent } = await resumeAndFinish(id, source);
    expect(offset).toBe(held);
    // Each resume sent only what was missing.
    expect(sent).toBe(SIZE - held);
    expect(partialFiles(ts.dataDir)).toEqual([]);
  });

  test('cut before ready: the partial stays as it was', async () => {
    const first = await resumeClient(ts.server.port);
    first.control({ type: 'put_file', id: 'pre', name: 'big.bin', size: SIZE, resume: true });
    await first.next();
    first.data(source.subarray(0, 500_000));
    await first.flushed();
    await first.cut();
    await partialHeld('pre', 500_000);
    // A put_file and nothing else: the server answers ready, the client is gone before reading it.
    const second = await resumeClient(ts.server.port);
    second.control({ type: 'put_file', id: 'pre', name: 'big.bin', size: SIZE, resume: true });
    await second.cut();
    await waitFor(() => !partialFiles(ts.dataDir).some((n) => n.endsWith('.owner')));
    expect((await resumeAndFinish('pre', source)).offset).toBe(500_000);
  });

  test('cut several times: each resume continues the last', async () => {
    const id = 'many';
    let at = 0;
    for (const upTo of [400_000, 1_000_001, 2_500_000]) {
      const c = await resumeClient(ts.server.port);
      c.control({ type: 'put_file', id, name: 'big.bin', size: SIZE, resume: true });
      const ready = await c.next();
      expect(ready).toMatchObject({ type: 'ready', offset: at });
      c.data(source.subarray(at, upTo), 100_000);
      expect(c.dataBytes).toBe(upTo - at);
      await c.flushed();
      await c.cut();
      at = await partialHeld(id, upTo);
    }
    expect(await resumeAndFinish(id, source)).toEqual({ offset: at, sent: SIZE - at });
  });

  test('cut after file_end, before the receipt: the retry gets the receipt, whatever it asks', async () => {
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id: 'late', name: 'big.bin', size: SIZE, resume: true });
    await c.next();
    c.data(source);
    c.control({ type: 'file_end', id: 'late', bytes: SIZE, sha256: sha(source) });
    await c.flushed();
    await c.cut();
    await waitFor(async () => (await listReceived(ts.dataDir)).length === 1);
    const r = await resumeClient(ts.server.port);
    r.control({ type: 'put_file', id: 'late', name: 'big.bin', size: SIZE, resume: true });
    expect(await r.next()).toMatchObject({ type: 'receipt', id: 'late', sha256: sha(source), duplicate: true });
    await r.cut();
    await waitFor(() => partialFiles(ts.dataDir).length === 0);
  });

  test('a newer connection wins: the older put is ended and its bytes continued', async () => {
    const old = await resumeClient(ts.server.port);
    old.control({ type: 'put_file', id: 'race', name: 'big.bin', size: SIZE, resume: true });
    await old.next();
    old.data(source.subarray(0, 2_500_000));
    await old.flushed();
    // The old connection stays open (its client is gone without the server knowing it); 2 MiB are on disk.
    await waitFor(() =>
      partialFiles(ts.dataDir).some(
        (n) => n.endsWith('.part') && statSync(join(ts.dataDir, 'partials', n)).size >= 2 * 1024 * 1024,
      ),
    );
    const { offset } = await resumeAndFinish('race', source);
    // Whatever of the 2 500 000 bytes reached the server before the newer put claimed the partial.
    expect(offset).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    expect(offset).toBeLessThanOrEqual(2_500_000);
    await old.closed();
  });
});

describe('a partial that does not match is never stored', () => {
  async function cutAt(id: string, n: number, extra: object = {}): Promise<void> {
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id, name: 'big.bin', size: SIZE, resume: true, ...extra });
    await c.next();
    c.data(source.subarray(0, n));
    await c.flushed();
    await c.cut();
    await partialHeld(id, n);
  }

  test('a changed source: ready.sha256 differs, the client cancels and starts again from zero', async () => {
    await cutAt('changed', 1_000_000);
    const changed = Buffer.from(source);
    changed[10] = (changed[10] as number) ^ 0xff;
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id: 'changed', name: 'big.bin', size: SIZE, resume: true });
    const ready = await c.next();
    expect(ready).toMatchObject({ type: 'ready', offset: 1_000_000, sha256: sha(source.subarray(0, 1_000_000)) });
    expect(sha(changed.subarray(0, 1_000_000))).not.toBe((ready as { sha256: string }).sha256);
    c.control({ type: 'cancel', id: 'changed' });
    c.control({ type: 'put_file', id: 'changed', name: 'big.bin', size: SIZE });
    expect(await c.next()).toEqual({ type: 'ready', id: 'changed', offset: 0 });
    c.data(changed);
    c.control({ type: 'file_end', id: 'changed', bytes: SIZE, sha256: sha(changed) });
    expect(await c.next()).toMatchObject({ type: 'receipt', sha256: sha(changed) });
    await c.cut();
  });

  test('a client that sends the rest of another file gets ERR_CHECKSUM_MISMATCH; the partial is gone', async () => {
    await cutAt('mixed', 1_000_000);
    const other = randomBytes(SIZE);
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id: 'mixed', name: 'big.bin', size: SIZE, resume: true });
    expect(await c.next()).toMatchObject({ type: 'ready', offset: 1_000_000 });
    c.data(other.subarray(1_000_000));
    c.control({ type: 'file_end', id: 'mixed', bytes: SIZE, sha256: sha(other) });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_CHECKSUM_MISMATCH', id: 'mixed' });
    await c.cut();
    await expectNoItems();
    await waitFor(() => partialFiles(ts.dataDir).length === 0);
    expect((await resumeAndFinish('mixed', other)).offset).toBe(0);
  });

  test('a partial damaged on disk is detected after a restart (the prefix is read back)', async () => {
    await cutAt('damaged', 2_000_000);
    const record = partialRecords(ts.dataDir).get('damaged');
    const file = join(ts.dataDir, 'partials', record?.file as string);
    await ts.server.close();
    const bytes = readFileSync(file);
    bytes[123] = (bytes[123] as number) ^ 1;
    writeFileSync(file, bytes);
    await restart();
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id: 'damaged', name: 'big.bin', size: SIZE, resume: true });
    const ready = await c.next();
    expect(ready).toMatchObject({ type: 'ready', offset: 2_000_000, sha256: sha(bytes.subarray(0, 2_000_000)) });
    expect((ready as { sha256: string }).sha256).not.toBe(sha(source.subarray(0, 2_000_000)));
    // Had the client sent the rest anyway, the whole file's checksum would refuse it.
    c.data(source.subarray(2_000_000));
    c.control({ type: 'file_end', id: 'damaged', bytes: SIZE, sha256: sha(source) });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_CHECKSUM_MISMATCH' });
    await c.cut();
    await expectNoItems();
  });

  test('a restart re-derives the prefix hash from the partial and completes the file', async () => {
    await cutAt('restarted', 2_000_000);
    await restart();
    expect(await resumeAndFinish('restarted', source)).toEqual({ offset: 2_000_000, sent: SIZE - 2_000_000 });
  });

  test.each([
    ['another size', { size: SIZE + 1 }],
    ['another encryption', { encryption: 'age' }],
    ['resume absent', { resume: undefined }],
    ['resume false', { resume: false }],
  ])('%s starts from zero and drops the partial', async (_name, extra) => {
    await cutAt('other', 500_000);
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id: 'other', name: 'big.bin', size: SIZE, resume: true, ...extra });
    expect(await c.next()).toEqual({ type: 'ready', id: 'other', offset: 0 });
    await c.cut();
    await waitFor(() => (partialRecords(ts.dataDir).get('other')?.durable ?? -1) === 0);
  });
});

describe('what discards a partial', () => {
  test.each([
    ['cancel', { type: 'cancel', id: 'gone' }],
    ['bye', { type: 'bye' }],
  ])('%s', async (_name, message) => {
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id: 'gone', name: 'big.bin', size: SIZE, resume: true });
    await c.next();
    c.data(source.subarray(0, 600_000));
    c.control(message);
    if (message.type === 'bye') expect(await c.next()).toEqual({ type: 'bye' });
    else c.control({ type: 'ping', nonce: 'after' });
    if (message.type !== 'bye') expect(await c.next()).toEqual({ type: 'pong', nonce: 'after' });
    await c.cut();
    await waitFor(() => partialFiles(ts.dataDir).length === 0);
    expect((await resumeAndFinish('gone', source)).offset).toBe(0);
  });

  test('a refused put (too many bytes) keeps nothing', async () => {
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id: 'over', name: 'big.bin', size: 1000, resume: true });
    await c.next();
    c.data(source.subarray(0, 2000));
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_SIZE_MISMATCH', id: 'over' });
    await c.cut();
    await waitFor(() => partialFiles(ts.dataDir).length === 0);
  });
});

describe('the golden session vectors of a resumed put (spec/vectors/sessions/resume-*.json)', () => {
  /** The server's bytes must be the vector's, but for what is its own: its id, recipient, stored path and time. */
  function expectedHex(vector: Record<string, unknown>[], got: Record<string, unknown>[]): string {
    expect(got.map((m) => m.type)).toEqual(vector.map((m) => m.type));
    return Buffer.concat(
      vector.map((m, i) => {
        const actual = got[i] as Record<string, unknown>;
        const copy = JSON.parse(JSON.stringify(m)) as Record<string, unknown>;
        if (m.type === 'welcome') {
          copy.serverId = actual.serverId;
          (copy.encryption as Record<string, unknown>).recipient = (
            actual.encryption as Record<string, unknown>
          ).recipient;
        }
        if (m.type === 'receipt') {
          copy.path = actual.path;
          copy.receivedAt = actual.receivedAt;
        }
        return encodeControlFrame(copy);
      }),
    ).toString('hex');
  }

  /** Writes `bytes`, then reads `n` frames as raw bytes. */
  async function exchange(bytes: Buffer, n: number): Promise<{ socket: Socket; frames: Buffer[] }> {
    const socket = connect({ host: '127.0.0.1', port: ts.server.port });
    socket.on('error', () => undefined);
    const frames: Buffer[] = [];
    let buffered = Buffer.alloc(0);
    const done = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(0)) {
          const end = 5 + buffered.readUInt32BE(0);
          frames.push(buffered.subarray(0, end));
          buffered = buffered.subarray(end);
        }
        if (frames.length >= n) resolve();
      });
    });
    socket.write(bytes);
    await done;
    return { socket, frames };
  }

  test('the cut connection and the resume are answered with exactly the bytes of the vectors', async () => {
    const parse = (f: Buffer): Record<string, unknown> =>
      parseServerMessage(f.subarray(5), { capabilities: new Set(['resume']) }) as Record<string, unknown>;
    const cut = await exchange(specWireVector('sessions/resume-cut-client-to-server.json').bytes, 2);
    const cutWant = specWireVector('sessions/resume-cut-server-to-client.json').messages;
    expect(Buffer.concat(cut.frames).toString('hex')).toBe(expectedHex(cutWant, cut.frames.map(parse)));
    cut.socket.destroy();
    await partialHeld('f-0002', 6);

    const resumed = await exchange(specWireVector('sessions/resume-client-to-server.json').bytes, 4);
    const want = specWireVector('sessions/resume-server-to-client.json').messages;
    expect(Buffer.concat(resumed.frames).toString('hex')).toBe(expectedHex(want, resumed.frames.map(parse)));
    resumed.socket.destroy();
    const receipt = parse(resumed.frames[2] as Buffer);
    expect(readFileSync(join(ts.dataDir, receipt.path as string), 'utf8')).toBe('hello, world\n');
  });
});

describe('cuts the server makes keep the partial too', () => {
  test('ERR_TOO_SLOW in the middle of a put', async () => {
    retired.push(ts);
    ts = await startTestServer({ limits: { minRateBytesPerSec: 1024 * 1024, transferTimeoutMs: 400 } });
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id: 'slow', name: 'big.bin', size: SIZE, resume: true });
    await c.next();
    c.data(source.subarray(0, 300_000));
    // Then silence: under the minimum rate, the server cuts the connection.
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_TOO_SLOW', fatal: true });
    await c.closed();
    expect(await partialHeld('slow', 300_000)).toBe(300_000);
    expect((await resumeAndFinish('slow', source)).offset).toBe(300_000);
  });

  test('a shutdown whose grace period ends in the middle of a put', async () => {
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id: 'stopped', name: 'big.bin', size: SIZE, resume: true });
    await c.next();
    c.data(source.subarray(0, 1_500_000));
    await c.flushed();
    await waitFor(() =>
      partialFiles(ts.dataDir).some(
        (n) => n.endsWith('.part') && statSync(join(ts.dataDir, 'partials', n)).size >= 1024 * 1024,
      ),
    );
    await restart(100);
    await c.closed();
    const held = partialRecords(ts.dataDir).get('stopped')?.durable ?? 0;
    expect(held).toBeGreaterThanOrEqual(1024 * 1024);
    expect(await resumeAndFinish('stopped', source)).toEqual({ offset: held, sent: SIZE - held });
  });
});
