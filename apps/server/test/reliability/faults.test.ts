/**
 * Faults (docs/RELIABILITY.md §3): clients cut at random points of a large transfer; the server SIGKILLed in
 * the middle of a mixed load and restarted on the same data directory; a full disk. After each: every
 * acknowledged item is intact and matches its receipt, nothing unacknowledged is visible, no temporary is left,
 * and the server serves again (a retry of every interrupted put gets a matching receipt).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Client, connect } from '@proj/protocol';
import { encodeControlFrame, encodeFrame, FrameKind, type Receipt } from '@proj/protocol/wire';
import { makeTempDir } from '@proj/test-utils';
import { chunks, startTestServer, waitFor, type TestServer } from '../helpers';
import {
  auditDataDir,
  baseSeed,
  buildServer,
  checkAcknowledged,
  fillToTheByte,
  itWithTmpfs,
  mountTmpfs,
  Probe,
  recordFigures,
  Rng,
  scale,
  sha256,
  sleep,
  spawnServer,
} from './harness';

type Acked = { id: string; path: string; sha256: string; bytes: number };

describe('clients cut at random points of a large transfer', () => {
  const CUTS = scale(30, 300);
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ output: 'file', logLevel: 'silent' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it(`${CUTS} transfers of 2 MiB cut by FIN or RST anywhere, even after file_end: nothing partial, retries match`, async () => {
    const seed = baseSeed();
    const rng = new Rng(seed);
    const body = rng.bytes(2 * 1024 * 1024);
    const sum = sha256(body);
    const frames: Buffer[] = [encodeControlFrame({ type: 'hello', version: 1 })];
    const putAt = Buffer.concat(frames).length;
    let stream = Buffer.alloc(0);
    const acked: Acked[] = [];
    const ids: string[] = [];
    let cutAfterEnd = 0;
    for (let i = 0; i < CUTS; i++) {
      const id = `cut-${seed}-${i}`;
      ids.push(id);
      const parts = [
        encodeControlFrame({ type: 'hello', version: 1 }),
        encodeControlFrame({ type: 'put_file', id, name: 'big.bin', size: body.length }),
      ];
      for (let off = 0; off < body.length; off += 256 * 1024)
        parts.push(Buffer.concat(encodeFrame(FrameKind.Data, body.subarray(off, off + 256 * 1024))));
      parts.push(encodeControlFrame({ type: 'file_end', id, bytes: body.length, sha256: sum }));
      stream = Buffer.concat(parts);
      // A cut anywhere from the put on, a tenth of them after the whole put is sent.
      const cut = rng.bool(0.1) ? stream.length : rng.int(putAt, stream.length - 1);
      if (cut === stream.length) cutAfterEnd += 1;
      const p = await Probe.connect(t.server.port);
      p.write(stream.subarray(0, cut));
      await new Promise<void>((r) => p.socket.write(Buffer.alloc(0), () => r()));
      if (rng.bool(0.3)) await sleep(rng.int(0, 30));
      if (rng.bool()) p.socket.resetAndDestroy();
      else p.socket.destroy();
      for (const m of p.messages) if (m.type === 'receipt') acked.push(m);
    }
    await waitFor(async () => (await auditDataDir(t.dataDir)).temps.length === 0, 10_000);
    const audit = await auditDataDir(t.dataDir);
    expect(audit.problems).toEqual([]);
    expect(checkAcknowledged(audit, acked)).toEqual([]);
    // Whatever was stored is whole; every retry gets a matching receipt (a duplicate when it had been stored).
    const c = await connect({ port: t.server.port });
    let duplicates = 0;
    for (const id of ids) {
      const r = await c.sendStream(chunks(body), { id, name: 'big.bin', size: body.length });
      expect(r).toMatchObject({ bytes: body.length, sha256: sum });
      if (r.duplicate) duplicates += 1;
    }
    await c.close();
    const after = await auditDataDir(t.dataDir);
    expect(after.problems).toEqual([]);
    expect(after.receipts).toBe(CUTS + 0);
    recordFigures('client-cuts', {
      seed,
      transfers: CUTS,
      cutAfterFileEnd: cutAfterEnd,
      storedBeforeRetry: audit.receipts,
      acknowledgedBeforeCut: acked.length,
      retries: ids.length,
      retriesDuplicate: duplicates,
      intactAfter: after.receipts,
    });
  });
});

describe('the server SIGKILLed mid-load and restarted', () => {
  const ROUNDS = scale(3, 12);
  const WORKERS = scale(6, 16);
  let dir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    buildServer();
    dir = await makeTempDir('sigkill-');
  }, 120_000);
  afterAll(async () => {
    await dir.remove();
  });

  it(
    `${ROUNDS} rounds of kill -9 during dictionaries and large files: every receipt kept, nothing else visible`,
    async () => {
      const seed = baseSeed();
      const rng = new Rng(seed);
      const dataDir = join(dir.path, 'data');
      const acked = new Map<string, Acked>();
      let inflightAtKill = 0;
      let retriesDuplicate = 0;
      let orphansRemoved = 0;
      let server = await spawnServer(dataDir, ['--log-level', 'info']);
      for (let round = 0; round < ROUNDS; round++) {
        const inflight = new Map<string, { kind: 'dict' | 'file'; body: Buffer }>();
        let stop = false;
        const worker = async (w: number): Promise<void> => {
          let c: Client;
          try {
            c = await connect({ port: server.port, timeoutMs: 10_000 });
          } catch {
            return;
          }
          for (let n = 0; !stop; n++) {
            const id = `r${round}-w${w}-n${n}-${seed}`;
            const file = rng.bool(0.4);
            const body = file
              ? new Rng(seed + n + w).bytes(rng.int(0, 3 * 1024 * 1024))
              : Buffer.from(JSON.stringify({ round, w, n, pad: 'x'.repeat(rng.int(0, 5000)) }));
            inflight.set(id, { kind: file ? 'file' : 'dict', body });
            let r: Receipt;
            try {
              r = file
                ? await c.sendStream(chunks(body), { id, name: `f${n}.bin`, size: body.length })
                : await c.sendDictBytes(body, { format: 'json', id });
            } catch {
              return; // the server died under us
            }
            inflight.delete(id);
            expect(r).toMatchObject({ sha256: sha256(body), bytes: body.length, duplicate: false });
            acked.set(id, r);
          }
          await c.close().catch(() => undefined);
        };
        const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
        await sleep(rng.int(300, 1500));
        await server.kill('SIGKILL');
        stop = true;
        await Promise.all(workers);
        inflightAtKill += inflight.size;

        server = await spawnServer(dataDir, ['--log-level', 'info']);
        const removed = /"orphans":(\d+)/.exec(server.stderr());
        orphansRemoved += Number(removed?.[1] ?? 0);
        const audit = await auditDataDir(dataDir);
        expect(audit.problems).toEqual([]);
        expect(audit.temps).toEqual([]);
        // The killed server's journal was replayed and deleted: only the new server's own segment is left.
        expect(audit.journal.filter((name) => !name.includes(`-${server.pid}.`))).toEqual([]);
        expect(checkAcknowledged(audit, acked.values())).toEqual([]);
        // Every interrupted put, retried with its id, ends with a matching receipt: stored once, never twice.
        const c = await connect({ port: server.port, timeoutMs: 10_000 });
        for (const [id, { kind, body }] of inflight) {
          const r =
            kind === 'file'
              ? await c.sendStream(chunks(body), { id, name: 'retry.bin', size: body.length })
              : await c.sendDictBytes(body, { format: 'json', id });
          expect(r).toMatchObject({ sha256: sha256(body), bytes: body.length });
          if (r.duplicate) retriesDuplicate += 1;
          acked.set(id, r);
        }
        await c.close();
      }
      await server.kill('SIGTERM');
      const audit = await auditDataDir(dataDir);
      expect(audit.problems).toEqual([]);
      expect(audit.journal).toEqual([]);
      expect(audit.receipts).toBe(acked.size);
      expect(checkAcknowledged(audit, acked.values())).toEqual([]);
      recordFigures('sigkill', {
        seed,
        rounds: ROUNDS,
        workers: WORKERS,
        acknowledged: acked.size,
        intact: audit.receipts,
        itemsOnDisk: audit.items,
        inflightAtKill,
        retriesDuplicate,
        orphansRemovedAtRestart: orphansRemoved,
      });
    },
    scale(120_000, 900_000),
  );
});

describe('a full disk', () => {
  let unmount: (() => void) | undefined;
  let t: TestServer | undefined;
  afterAll(async () => {
    await t?.server.close(0);
    unmount?.();
  });

  itWithTmpfs(
    'answers ERR_STORAGE with nothing partial, whether the bytes, the item or the receipt do not fit; serves again once freed',
    async () => {
      const fs = await mountTmpfs('diskfull-');
      unmount = fs.unmount;
      const mountPoint = fs.path;
      const dataDir = join(mountPoint, 'data');
      t = await startTestServer({ dataDir, output: 'file', logLevel: 'silent' });
      const port = t.server.port;
      const { pages, filler } = await fillToTheByte(mountPoint, 3);
      const c = await connect({ port });
      const results: Record<string, string> = {};
      const code = async (p: Promise<unknown>): Promise<string> =>
        p.then(
          () => 'stored',
          (e: { code?: string }) => e.code ?? String(e),
        );

      // 1. A large file: the bytes do not fit.
      const big = Buffer.alloc(1024 * 1024, 7);
      results.bigFile = await code(c.sendStream(chunks(big), { id: 'full-big', name: 'big.bin', size: big.length }));
      // 2. A dictionary: its bytes do not fit.
      results.dict = await code(c.sendDict({ a: 'b'.repeat(100) }, { id: 'full-dict' }));
      // 3. One page free: the item fits, its receipt does not.
      await rm(pages[0] as string);
      results.receiptDoesNotFit = await code(
        c.sendStream(chunks(Buffer.alloc(4096, 3)), { id: 'full-receipt', name: 'page.bin', size: 4096 }),
      );
      await waitFor(async () => (await auditDataDir(dataDir)).temps.length === 0);
      let audit = await auditDataDir(dataDir);
      expect(audit.problems).toEqual([]);
      expect(audit.receipts).toBe(0);
      expect(audit.items).toBe(0);
      expect(results).toEqual({ bigFile: 'ERR_STORAGE', dict: 'ERR_STORAGE', receiptDoesNotFit: 'ERR_STORAGE' });

      // Freed: the same puts go through on the same connection.
      await rm(filler);
      const r1 = await c.sendStream(chunks(big), { id: 'full-big', name: 'big.bin', size: big.length });
      const r2 = await c.sendDict({ a: 'b'.repeat(100) }, { id: 'full-dict' });
      const r3 = await c.sendStream(chunks(Buffer.alloc(4096, 3)), {
        id: 'full-receipt',
        name: 'page.bin',
        size: 4096,
      });
      await c.close();
      audit = await auditDataDir(dataDir);
      expect(audit.problems).toEqual([]);
      expect(checkAcknowledged(audit, [r1, r2, r3])).toEqual([]);
      expect(audit.receipts).toBe(3);
      recordFigures('disk-full', {
        tmpfsBytes: 8 * 1024 * 1024,
        refusedWithStorageError: 3,
        partialFilesLeft: 0,
        storedAfterFreeing: audit.receipts,
      });
    },
  );
});
