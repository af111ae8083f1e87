/**
 * Slow and idle clients (docs/RELIABILITY.md §2): a hello dripped a byte at a time, silence after the handshake,
 * a file dripped slower than the idle timeout, a client that sends but never reads, and many half-open
 * connections. Each is timed out with ERR_TIMEOUT (or cut off), its temporaries are freed, and a well-behaved
 * client's transfer running meanwhile completes.
 */
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '@proj/protocol';
import { encodeControlFrame, encodeFrame, FrameKind } from '@proj/protocol/wire';
import { listFiles } from '@proj/test-utils';
import { startTestServer, waitFor, chunks, type TestServer } from '../helpers';
import { auditDataDir, Probe, recordFigures, scale, sha256, sleep } from './harness';

const IDLE_MS = 500;
const HALF_OPEN = scale(200, 1000);

async function fatalCode(p: Probe, timeoutMs: number): Promise<string | undefined> {
  await p.until(() => p.closed, timeoutMs);
  const last = p.messages[p.messages.length - 1];
  return last?.type === 'error' && last.fatal ? last.code : undefined;
}

/** Sends `bytes` to a fresh file put over a good connection; resolves with MiB/s. */
async function goodTransfer(port: number, bytes: number): Promise<number> {
  const body = Buffer.alloc(bytes, 0x5a);
  const c = await connect({ port, timeoutMs: 30_000 });
  const t0 = process.hrtime.bigint();
  const r = await c.sendStream(chunks(body), { name: 'good.bin', size: body.length });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await c.close();
  expect(r).toMatchObject({ bytes: body.length, sha256: sha256(body) });
  return bytes / 1024 / 1024 / s;
}

describe('slow and idle clients', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      output: 'file',
      logLevel: 'silent',
      // All from 127.0.0.1, and all meant to wait for their hello until the timeout (admission.test.ts tests eviction).
      limits: {
        idleTimeoutMs: IDLE_MS,
        handshakeTimeoutMs: IDLE_MS,
        maxConnections: HALF_OPEN + 50,
        maxPendingConnections: HALF_OPEN + 50,
        maxConnectionsPerAddress: HALF_OPEN + 50,
      },
    });
  });
  afterAll(async () => {
    await t.server.close(0);
    await t.stop();
  });
  afterEach(async () => {
    await waitFor(async () => (await listFiles(join(t.dataDir, 'tmp'))).length === 0);
    expect((await auditDataDir(t.dataDir)).problems).toEqual([]);
  });

  it('a hello dripped a byte every 200 ms is cut at the handshake timeout, not refreshed by each byte', async () => {
    const p = await Probe.connect(t.server.port);
    const hello = encodeControlFrame({ type: 'hello', version: 1, agent: 'a slow one' });
    const started = Date.now();
    const drip = (async () => {
      for (const byte of hello) {
        if (p.closed) return;
        p.write(Buffer.from([byte]));
        await sleep(200);
      }
    })();
    expect(await fatalCode(p, 5000)).toBe('ERR_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(IDLE_MS + 1500);
    await drip;
  });

  it('silence after the handshake is closed with ERR_TIMEOUT', async () => {
    const p = await Probe.connect(t.server.port);
    p.write(encodeControlFrame({ type: 'hello', version: 1 }));
    expect(await fatalCode(p, 5000)).toBe('ERR_TIMEOUT');
    expect(p.messages[0]?.type).toBe('welcome');
  });

  it('a file dripped slower than the idle timeout is cut, its temporary removed; a good transfer meanwhile completes', async () => {
    const p = await Probe.connect(t.server.port);
    p.write(encodeControlFrame({ type: 'hello', version: 1 }));
    p.write(encodeControlFrame({ type: 'put_file', id: 'drip-1', name: 'drip.bin' }));
    await p.until(() => p.messages.some((m) => m.type === 'ready'), 2000);
    const drip = (async () => {
      for (let i = 0; i < 20 && !p.closed; i++) {
        p.write(Buffer.concat(encodeFrame(FrameKind.Data, Buffer.from([i]))));
        await sleep(IDLE_MS + 300);
      }
    })();
    const rate = await goodTransfer(t.server.port, 16 * 1024 * 1024);
    expect(await fatalCode(p, 5000)).toBe('ERR_TIMEOUT');
    await drip;
    recordFigures('slow-drip', { goodMiBps: Math.round(rate) });
  });

  it('a client that sends pings and never reads is cut off: the server does not buffer its answers without bound', async () => {
    const p = await Probe.connect(t.server.port);
    p.write(encodeControlFrame({ type: 'hello', version: 1 }));
    await p.until(() => p.messages.length > 0, 2000);
    p.socket.pause(); // never read again
    const ping = encodeControlFrame({ type: 'ping', nonce: 'x'.repeat(64) });
    const burst = Buffer.concat(Array.from({ length: 2000 }, () => ping));
    let sent = 0;
    const deadline = Date.now() + 15_000;
    while (!p.closed && Date.now() < deadline) {
      // Keep sending as long as the server reads; a server that stops reading leaves our buffer full.
      if (p.socket.writableLength < 8 * 1024 * 1024) {
        p.write(burst);
        sent += burst.length;
      }
      await sleep(5);
    }
    expect(p.closed).toBe(true);
    recordFigures('never-reads', { bytesSentBeforeCut: sent });
    // Far less than it would have answered had it kept reading for 15 s.
    expect(sent).toBeLessThan(200 * 1024 * 1024);
  });

  it('a file sent in one-byte and empty frames is gathered into few writes, not one write per frame', async () => {
    const probeFile = await open(join(t.dataDir, 'tmp', 'probe'), 'w');
    const proto = Object.getPrototypeOf(probeFile) as { write: (...a: unknown[]) => Promise<unknown> };
    await probeFile.close();
    await rm(join(t.dataDir, 'tmp', 'probe'));
    const original = proto.write;
    let writes = 0;
    proto.write = function (this: unknown, ...args: unknown[]) {
      writes += 1;
      return original.apply(this, args);
    };
    try {
      const body = Buffer.from(Array.from({ length: 20_000 }, (_, i) => i & 0xff));
      const parts = [
        encodeControlFrame({ type: 'hello', version: 1 }),
        encodeControlFrame({ type: 'put_file', id: 'tiny-frames', name: 'tiny.bin' }),
      ];
      for (const byte of body)
        parts.push(
          ...encodeFrame(FrameKind.Data, Buffer.alloc(0)),
          ...encodeFrame(FrameKind.Data, Buffer.from([byte])),
        );
      parts.push(encodeControlFrame({ type: 'file_end', id: 'tiny-frames', bytes: body.length, sha256: sha256(body) }));
      const p = await Probe.connect(t.server.port);
      p.write(Buffer.concat(parts));
      await p.until(() => p.messages.some((m) => m.type === 'receipt' || m.type === 'error'), 20_000);
      expect(p.messages.at(-1)).toMatchObject({ type: 'receipt', bytes: body.length, sha256: sha256(body) });
      p.socket.destroy();
      expect(writes).toBeLessThan(10);
    } finally {
      proto.write = original;
    }
  });

  it(`${HALF_OPEN} half-open connections (nothing, half a header, a hello cut short) are all closed; a good client keeps its speed`, async () => {
    const base = await goodTransfer(t.server.port, 16 * 1024 * 1024);
    const probes: Probe[] = [];
    for (let i = 0; i < HALF_OPEN; i++) {
      const p = await Probe.connect(t.server.port);
      if (i % 3 === 1) p.write(Buffer.from([0, 0]));
      if (i % 3 === 2) p.write(encodeControlFrame({ type: 'hello', version: 1 }).subarray(0, 10));
      probes.push(p);
    }
    const during = await goodTransfer(t.server.port, 16 * 1024 * 1024);
    const started = Date.now();
    await Promise.all(probes.map((p) => p.until(() => p.closed, 10_000)));
    const closedIn = Date.now() - started;
    expect(probes.filter((p) => !p.closed)).toHaveLength(0);
    const codes = new Set(probes.map((p) => p.messages.at(-1)).map((m) => (m?.type === 'error' ? m.code : 'none')));
    expect([...codes]).toEqual(['ERR_TIMEOUT']);
    const after = await goodTransfer(t.server.port, 16 * 1024 * 1024);
    recordFigures('half-open', {
      connections: HALF_OPEN,
      allClosedWithinMs: closedIn,
      goodMiBpsAlone: Math.round(base),
      goodMiBpsDuring: Math.round(during),
      goodMiBpsAfter: Math.round(after),
    });
  });
});
