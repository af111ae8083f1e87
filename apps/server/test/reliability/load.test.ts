/**
 * Load (docs/RELIABILITY.md §4), against the server as a child process so its memory can be read from /proc:
 * 1,000 connections at once, each storing a dictionary; then a sustained mixed load of dictionaries (three
 * formats) and files for a bounded time. Zero lost, zero duplicated, and the server's RSS stays bounded.
 */
import { connect } from '@proj/protocol';
import { encodeControlFrame, encodeFrame, FrameKind, type Receipt } from '@proj/protocol/wire';
import { encodeDict } from '@proj/protocol/dict';
import { makeTempDir } from '@proj/test-utils';
import { join } from 'node:path';
import { chunks } from '../helpers';
import {
  auditDataDir,
  baseSeed,
  buildServer,
  checkAcknowledged,
  Probe,
  recordFigures,
  Rng,
  scale,
  sha256,
  spawnServer,
  type ChildServer,
} from './harness';

const CONNECTIONS = 1000;
const LOAD_SECONDS = scale(6, 90);
const LOAD_CLIENTS = scale(8, 32);
/** RSS the server must stay under, in MiB: generous for Node, far below what a leak of the load would reach. */
const RSS_LIMIT_MIB = 400;

describe('load', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let server: ChildServer;
  // Every client comes from 127.0.0.1 and connects before saying hello: the per-address and waiting-for-hello
  // limits are raised with the connection limit (admission.test.ts tests them).
  const limits = ['--max-connections', '2000', '--max-pending', '2000', '--max-per-address', '2000'];
  const start = async (): Promise<ChildServer> =>
    spawnServer(join(dir.path, 'data'), [...limits, '--log-level', 'warn'], { nofile: 4096 });
  beforeAll(async () => {
    buildServer();
    dir = await makeTempDir('load-');
    server = await start();
  }, 120_000);
  afterAll(async () => {
    await server?.kill('SIGTERM');
    await dir.remove();
  });

  it(`${CONNECTIONS} connections at once, each storing a dictionary`, async () => {
    const before = server.memory();
    const started = Date.now();
    const probes = await Promise.all(Array.from({ length: CONNECTIONS }, () => Probe.connect(server.port)));
    const held = probes.length;
    const bodies = probes.map((_, i) => Buffer.from(encodeDict({ i, conn: true }, 'json')));
    probes.forEach((p, i) => {
      const body = bodies[i] as Buffer;
      p.write(
        Buffer.concat([
          encodeControlFrame({ type: 'hello', version: 1 }),
          encodeControlFrame({ type: 'put_dict', id: `conn-${i}`, format: 'json', bytes: body.length }),
          ...encodeFrame(FrameKind.Data, body),
        ]),
      );
    });
    await Promise.all(probes.map((p) => p.until(() => p.messages.length >= 2, 60_000)));
    const seconds = (Date.now() - started) / 1000;
    const peak = server.memory();
    const acked: Receipt[] = [];
    probes.forEach((p, i) => {
      expect(p.messages.map((m) => m.type)).toEqual(['welcome', 'receipt']);
      const r = p.messages[1] as Receipt;
      expect(r).toMatchObject({ id: `conn-${i}`, sha256: sha256(bodies[i] as Buffer), duplicate: false });
      acked.push(r);
    });
    for (const p of probes) p.socket.destroy();
    // Audited at rest (./harness.ts auditDataDir): a clean stop writes what was acknowledged a moment ago.
    await server.kill('SIGTERM');
    const audit = await auditDataDir(join(dir.path, 'data'));
    server = await start();
    expect(audit.problems).toEqual([]);
    expect(checkAcknowledged(audit, acked)).toEqual([]);
    expect(peak.rssKiB / 1024).toBeLessThan(RSS_LIMIT_MIB);
    recordFigures('connections', {
      held,
      acknowledged: acked.length,
      intact: audit.receipts,
      seconds,
      rssBeforeMiB: Math.round(before.rssKiB / 1024),
      rssWithAllMiB: Math.round(peak.rssKiB / 1024),
      hwmMiB: Math.round(peak.hwmKiB / 1024),
    });
  }, 120_000);

  it(
    `a mixed load of dictionaries and files for ${LOAD_SECONDS} s: zero lost, zero duplicated, memory bounded`,
    async () => {
      const seed = baseSeed();
      const dataDir = join(dir.path, 'data');
      const base = await auditDataDir(dataDir);
      const acked = new Map<string, Receipt>();
      const rss: number[] = [];
      let bytes = 0;
      let dicts = 0;
      let files = 0;
      let duplicates = 0;
      const sampler = setInterval(() => rss.push(server.memory().rssKiB), 200);
      const deadline = Date.now() + LOAD_SECONDS * 1000;
      const worker = async (w: number): Promise<void> => {
        const rng = new Rng(seed + w);
        const c = await connect({ port: server.port, timeoutMs: 30_000 });
        for (let n = 0; Date.now() < deadline; n++) {
          const id = `load-${seed}-${w}-${n}`;
          let r: Receipt;
          let sum: string;
          if (rng.bool(0.7)) {
            const format = rng.pick(['json', 'xml', 'protobuf'] as const);
            const body = Buffer.from(
              encodeDict(
                { w, n, text: 'é'.repeat(rng.int(0, 2000)), list: [1, 2.5, null, true, { deep: { x: n } }] },
                format,
              ),
            );
            sum = sha256(body);
            r = await c.sendDictBytes(body, { format, id });
            dicts += 1;
            bytes += body.length;
          } else {
            const size = rng.pick([0, 1, 4096, 65_536, 1024 * 1024, rng.int(0, 4 * 1024 * 1024)]);
            const body = rng.bytes(Math.min(size, 64 * 1024));
            const full =
              size <= body.length
                ? body.subarray(0, size)
                : Buffer.concat(Array.from({ length: Math.ceil(size / body.length) }, () => body)).subarray(0, size);
            sum = sha256(full);
            r = await c.sendStream(chunks(full), { id, name: `load-${n}.bin`, size });
            files += 1;
            bytes += size;
          }
          expect(r.sha256).toBe(sum);
          if (r.duplicate || acked.has(id)) duplicates += 1;
          acked.set(id, r);
        }
        await c.close();
      };
      const started = Date.now();
      await Promise.all(Array.from({ length: LOAD_CLIENTS }, (_, w) => worker(w)));
      const seconds = (Date.now() - started) / 1000;
      clearInterval(sampler);
      const hwmKiB = server.memory().hwmKiB;
      await server.kill('SIGTERM');
      const audit = await auditDataDir(dataDir);
      expect(audit.problems).toEqual([]);
      expect(checkAcknowledged(audit, acked.values())).toEqual([]);
      const stored = audit.receipts - base.receipts;
      expect(duplicates).toBe(0);
      expect(stored).toBe(acked.size);
      const maxRss = Math.max(...rss) / 1024;
      expect(maxRss).toBeLessThan(RSS_LIMIT_MIB);
      recordFigures('mixed-load', {
        seed,
        clients: LOAD_CLIENTS,
        seconds,
        dicts,
        files,
        megabytes: Math.round(bytes / 1024 / 1024),
        acknowledged: acked.size,
        intact: stored,
        lost: checkAcknowledged(audit, acked.values()).length,
        duplicated: duplicates,
        putsPerSecond: Math.round(acked.size / seconds),
        rssMaxMiB: Math.round(maxRss),
        rssLastMiB: Math.round((rss.at(-1) ?? 0) / 1024),
        hwmMiB: Math.round(hwmKiB / 1024),
      });
    },
    scale(120_000, 600_000),
  );
});
