/**
 * Heavy dictionaries (issue 11, fault 10; docs/RELIABILITY.md). A 1 MiB dictionary dense with nodes costs 100-300
 * ms of CPU to decode; on the event loop, every other client waits that long. Large dictionaries are decoded by a
 * pool of worker threads (src/dict-check/dict-decoder-pool.ts), so the event loop's share of that work is the I/O around it.
 *
 * Four clients send dense 1 MiB dictionaries (the three formats in turn) as fast as they are acknowledged while
 * another pings every 10 ms. The server runs as a child process, once with `--dict-workers 0` (decoding on the
 * event loop, as before the pool) and once with its default pool. What is asserted holds on any machine: every
 * dictionary is acknowledged and stored intact, every ping answered, and with the pool the main thread spends
 * under a fifth of what the event loop spent per dictionary without it (CPU time from /proc, not a clock). The
 * ping latencies are recorded (`recordFigures`) for docs/RELIABILITY.md, not asserted.
 */
import { encodeControlFrame, encodeFrame, FrameKind, type Receipt } from '@proj/protocol/wire';
import { encodeDict, type DictFormat } from '@proj/protocol/dict';
import { makeTempDir } from '@proj/test-utils';
import { join } from 'node:path';
import {
  auditDataDir,
  buildServer,
  checkAcknowledged,
  cpuSeconds,
  Probe,
  recordFigures,
  scale,
  sha256,
  sleep,
  spawnServer,
} from './harness';

const SECONDS = scale(4, 30);
const SENDERS = 4;
const PING_EVERY_MS = 10;
const MAX_DICT = 1024 * 1024;

/** A 1 MiB-or-less dictionary in `format` of as many empty objects as fit: the costliest kind to decode. */
function denseBody(format: DictFormat): Buffer {
  if (format === 'json') return Buffer.from(`{"a":[${'{},'.repeat(349_522)}{}]}`); // what encodeDict writes, built faster
  const perNode = format === 'xml' ? '<object/>'.length : 4; // protobuf: a ListValue entry holding an empty Struct
  let n = Math.floor(MAX_DICT / perNode);
  for (;;) {
    const bytes = Buffer.from(
      encodeDict({ a: Array.from({ length: n }, () => ({})) }, format, { maxDictBytes: 2 * MAX_DICT }),
    );
    if (bytes.length <= MAX_DICT) return bytes;
    n -= Math.ceil((bytes.length - MAX_DICT) / perNode);
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface Run {
  dicts: number;
  pings: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU seconds of the server's main thread, and of the whole process, during the load. */
  mainCpu: number;
  processCpu: number;
}

async function run(label: string, args: string[], bodies: Array<{ format: DictFormat; bytes: Buffer }>): Promise<Run> {
  const dir = await makeTempDir(`heavy-dicts-${label}-`);
  const dataDir = join(dir.path, 'data');
  const server = await spawnServer(dataDir, ['--log-level', 'warn', ...args]);
  try {
    const senders = await Promise.all(Array.from({ length: SENDERS }, () => Probe.connect(server.port)));
    const pinger = await Probe.connect(server.port);
    for (const p of [...senders, pinger]) p.write(encodeControlFrame({ type: 'hello', version: 1 }));
    expect(
      await Promise.all([...senders, pinger].map((p) => p.until(() => p.messages.length >= 1, 10_000))),
    ).not.toContain(false);

    const acked: Receipt[] = [];
    const sent = new Map<string, Buffer>();
    const mainBefore = cpuSeconds(server.pid, server.pid);
    const processBefore = cpuSeconds(server.pid);
    const deadline = Date.now() + SECONDS * 1000;

    // The pinger: one ping every 10 ms whatever came back; each pong's round trip is what a client waits.
    const rtts: number[] = [];
    const pending = new Map<string, number>();
    let pingsSent = 0;
    pinger.socket.on('data', () => {
      for (const m of pinger.messages.splice(0)) {
        if (m.type !== 'pong') continue;
        const at = pending.get(m.nonce as string);
        if (at !== undefined) rtts.push(performance.now() - at);
        pending.delete(m.nonce as string);
      }
    });
    const ticker = setInterval(() => {
      const nonce = String(pingsSent++);
      pending.set(nonce, performance.now());
      pinger.write(encodeControlFrame({ type: 'ping', nonce }));
    }, PING_EVERY_MS);

    await Promise.all(
      senders.map(async (p, w) => {
        if (bodies.length === 0) await sleep(deadline - Date.now()); // the baseline: pings alone
        for (let n = 0; bodies.length > 0 && Date.now() < deadline; n++) {
          const { format, bytes } = bodies[(w + n) % bodies.length] as { format: DictFormat; bytes: Buffer };
          const id = `heavy-${label}-${w}-${n}`;
          sent.set(id, bytes);
          const before = p.messages.length;
          p.write(
            Buffer.concat([
              encodeControlFrame({ type: 'put_dict', id, format, bytes: bytes.length }),
              ...encodeFrame(FrameKind.Data, bytes),
            ]),
          );
          expect(await p.until(() => p.messages.length > before, 60_000)).toBe(true);
          const answer = p.messages[before];
          expect(answer).toMatchObject({
            type: 'receipt',
            id,
            bytes: bytes.length,
            sha256: sha256(bytes),
            duplicate: false,
          });
          acked.push(answer as Receipt);
        }
      }),
    );
    clearInterval(ticker);
    const mainCpu = cpuSeconds(server.pid, server.pid) - mainBefore;
    const processCpu = cpuSeconds(server.pid) - processBefore;
    // Every ping is answered once the load is over.
    const lastPing = pingsSent;
    const answered = await pinger.until(() => pending.size === 0, 30_000);
    expect({ answered, unanswered: pending.size }).toEqual({ answered: true, unanswered: 0 });
    for (const p of [...senders, pinger]) p.socket.destroy();

    // A clean stop writes the files of items acknowledged a moment ago (./harness.ts auditDataDir).
    await server.kill('SIGTERM');
    const audit = await auditDataDir(dataDir);
    expect(audit.problems).toEqual([]);
    expect(checkAcknowledged(audit, acked)).toEqual([]);
    expect(audit.receipts).toBe(acked.length);
    const sorted = [...rtts].sort((a, b) => a - b);
    return {
      dicts: acked.length,
      pings: lastPing,
      p50Ms: Number(percentile(sorted, 50).toFixed(1)),
      p99Ms: Number(percentile(sorted, 99).toFixed(1)),
      maxMs: Number((sorted[sorted.length - 1] ?? NaN).toFixed(1)),
      mainCpu: Number(mainCpu.toFixed(2)),
      processCpu: Number(processCpu.toFixed(2)),
    };
  } finally {
    await server.kill('SIGTERM');
    await dir.remove();
  }
}

describe('heavy dictionaries', () => {
  let bodies: Array<{ format: DictFormat; bytes: Buffer }>;
  beforeAll(() => {
    buildServer();
    bodies = (['json', 'xml', 'protobuf'] as const).map((format) => ({ format, bytes: denseBody(format) }));
  }, 180_000);

  it(`${SENDERS} clients sending dense 1 MiB dictionaries for ${SECONDS} s: all stored, every ping answered, decoding off the event loop`, async () => {
    for (const { bytes } of bodies) expect(bytes.length).toBeGreaterThan(MAX_DICT - 1024);
    // `HEAVY_DICTS_POOL_ARGS` replaces the pool run's arguments (`--dict-workers 0` shows the test failing).
    const poolArgs = process.env.HEAVY_DICTS_POOL_ARGS?.split(' ').filter(Boolean) ?? [];
    const onLoop = await run('on-loop', ['--dict-workers', '0'], bodies);
    await sleep(200);
    const pooled = await run('pool', poolArgs, bodies);
    const idle = await run('idle', poolArgs, []);
    recordFigures('heavy-dicts', {
      seconds: SECONDS,
      senders: SENDERS,
      pingEveryMs: PING_EVERY_MS,
      onLoop,
      pooled,
      idle,
    });
    process.stdout.write(`heavy dictionaries: ${JSON.stringify({ onLoop, pooled, idle })}\n`);

    expect(onLoop.dicts).toBeGreaterThanOrEqual(SENDERS);
    expect(pooled.dicts).toBeGreaterThanOrEqual(SENDERS);
    // CPU time, not a clock: what the main thread spends per dictionary. On the event loop it is the decoding.
    const perDictOnLoop = onLoop.mainCpu / onLoop.dicts;
    const perDictPooled = pooled.mainCpu / pooled.dicts;
    expect(perDictPooled).toBeLessThan(perDictOnLoop / 5);
  }, 300_000);
});
