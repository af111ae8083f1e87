/**
 * Partials in the cluster (docs/SCALE-OUT.md, "Resume on the cluster"), against a real 3-node nats-server cluster:
 * a put cut on one server is resumed on another with the right offset and prefix SHA-256 and stored whole, sending
 * only the missing bytes; the same process resumes from its kept hash state; a mismatching or unasked resume
 * discards the partial; a put without `resume` keeps nothing; the newer put of an id wins (through a real server
 * too); a partial in use by a live put on another server is left alone, and claimed once its dead owner's lease
 * ran out; a stray chunk past the record is removed and a partial that does not hash as recorded is not
 * continued; `--partial-ttl` removes partials and their chunks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { findNatsServer, type NatsCluster, startNatsCluster } from '@proj/test-utils';
import { InputBudget } from '../../src/input-budget';
import { createLogger } from '../../src/logger';
import type { FileSink, FileSinkOptions } from '../../src/store/item-store';
import { JetStreamStore } from '../../src/store/jetstream/jetstream-store';
import { keyOfId } from '../../src/store/jetstream/names';
import { chunkSubject } from '../../src/store/jetstream/objects';
import { countOn } from '../../src/store/jetstream/partial-chunks';
import { type PartialRecord, parsePartial, readPartialEntry } from '../../src/store/jetstream/partial-record';
import { newServerId } from '../../src/store/paths';
import { startTestServer, type TestServer } from '../helpers';
import { resumeClient } from '../resume/resume-client';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const log = createLogger('silent');
const program = findNatsServer();
const skip = program === undefined ? 'nats-server is not installed (apt-get install nats-server)' : undefined;
if (skip) console.warn(`skipping the JetStream resume tests: ${skip}`);
const maybe = skip ? describe.skip : describe;

let cluster: NatsCluster;
let a: JetStreamStore;
let b: JetStreamStore;

const openStore = (): Promise<JetStreamStore> =>
  JetStreamStore.open({ servers: cluster.urls, serverId: newServerId(), log, clean: false, maxDictBytes: MiB });

function newId(prefix: string): string {
  return `${prefix}:${randomBytes(4).toString('hex')}`;
}

function options(
  id: string,
  size: number | undefined,
  resume?: { continue: boolean; encryption?: 'none' | 'age'; evict?: () => void },
): FileSinkOptions {
  return {
    id,
    size,
    budget: new InputBudget(64 * MiB),
    signal: new AbortController().signal,
    ...(resume
      ? {
          resume: {
            continue: resume.continue,
            encryption: resume.encryption ?? 'none',
            evict: resume.evict ?? (() => {}),
          },
        }
      : {}),
  };
}

async function writeAll(sink: FileSink, bytes: Buffer, piece = 64 * 1024): Promise<void> {
  for (let i = 0; i < bytes.length; i += piece) await sink.write(bytes.subarray(i, i + piece));
}

async function record(id: string): Promise<PartialRecord | undefined> {
  const e = await readPartialEntry(a.conn, keyOfId(id));
  return e?.operation === 'PUT' ? parsePartial(e.value) : undefined;
}

async function readItem(store: JetStreamStore, path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of store.openReader(path, MiB)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const meta = { name: 'big.bin', cleanedName: 'big.bin', declared: 'none' as const, sender: 'test' };

/** Cuts a put of `data` on `store` after `cutAt` bytes; returns the partial's record. */
async function cutPut(store: JetStreamStore, id: string, data: Buffer, cutAt: number): Promise<PartialRecord> {
  const sink = await store.openFileSink(options(id, data.length, { continue: true }));
  await writeAll(sink, data.subarray(0, cutAt));
  await sink.suspend();
  const r = await record(id);
  if (r === undefined) throw new Error('no partial recorded');
  return r;
}

maybe('JetStream partials', () => {
  beforeAll(async () => {
    cluster = await startNatsCluster();
    [a, b] = [await openStore(), await openStore()];
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cluster?.stop();
  });

  test('a put cut on one store is resumed on another: offset, prefix SHA-256, the whole file stored', async () => {
    const id = newId('cross');
    const data = randomBytes(3 * MiB + 12_345);
    const r = await cutPut(a, id, data, 2 * MiB + 500_000);
    // Only whole acknowledged chunks are held: the half chunk gathered at the cut is not.
    expect(r).toMatchObject({ id, chunks: 2, durable: 2 * MiB, size: data.length, encryption: 'none' });
    expect(r.owner).toBeUndefined();
    expect(r.sha256).toBe(sha(data.subarray(0, 2 * MiB)));
    expect(await countOn(a.conn, chunkSubject(a.conn, r.nuid))).toBe(2);

    const sink = await b.openFileSink(options(id, data.length, { continue: true }));
    expect(sink.offset).toBe(2 * MiB);
    expect(sink.offsetSha256).toBe(sha(data.subarray(0, 2 * MiB)));
    expect((await record(id))?.owner).toBeDefined();
    await writeAll(sink, data.subarray(sink.offset));
    expect(sink.received).toBe(data.length);
    expect(sink.sha256()).toBe(sha(data));
    const { item, duplicate } = await sink.commit(meta);
    expect(duplicate).toBe(false);
    expect(item.bytes).toBe(data.length);
    expect(sha(await readItem(a, item.path))).toBe(sha(data));
    expect(await record(id)).toBeUndefined();
    expect(await countOn(a.conn, chunkSubject(a.conn, r.nuid))).toBe(4);
  });

  test('two real servers sharing the cluster: the client resumes on the other and sends only the missing bytes', async () => {
    const s1: TestServer = await startTestServer({ store: cluster.url });
    const s2: TestServer = await startTestServer({ store: cluster.url });
    try {
      const id = newId('servers');
      const data = randomBytes(4 * MiB + 777);
      const c1 = await resumeClient(s1.server.port);
      c1.control({ type: 'put_file', id, name: 'big.bin', size: data.length, resume: true });
      expect(await c1.next()).toMatchObject({ type: 'ready', id, offset: 0 });
      c1.data(data.subarray(0, 3 * MiB + 100));
      await c1.flushed();
      // Cut once the cluster holds the first 3 chunks (recorded at least every second while bytes come).
      const deadline = Date.now() + 20_000;
      while (((await record(id))?.durable ?? 0) < 3 * MiB && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      await c1.cut();
      let r = await record(id);
      while (r?.owner !== undefined && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 100));
        r = await record(id);
      }
      expect(r).toMatchObject({ durable: 3 * MiB, chunks: 3 });

      const c2 = await resumeClient(s2.server.port);
      c2.control({ type: 'put_file', id, name: 'big.bin', size: data.length, resume: true });
      const ready = await c2.next();
      expect(ready).toMatchObject({ type: 'ready', id, offset: 3 * MiB, sha256: sha(data.subarray(0, 3 * MiB)) });
      c2.data(data.subarray(3 * MiB));
      c2.control({ type: 'file_end', id, bytes: data.length, sha256: sha(data) });
      const receipt = await c2.next();
      expect(receipt).toMatchObject({ type: 'receipt', id, bytes: data.length, sha256: sha(data), duplicate: false });
      expect(c2.dataBytes).toBe(data.length - 3 * MiB);
      if (receipt?.type !== 'receipt') throw new Error('no receipt');
      expect(sha(await readItem(a, receipt.path))).toBe(sha(data));
      expect(await record(id)).toBeUndefined();
      await c2.cut();
    } finally {
      await s1.stop();
      await s2.stop();
    }
  }, 60_000);

  test('through a real server: a newer connection wins, the older put is ended and its chunks continued', async () => {
    const s1 = await startTestServer({ store: cluster.url });
    try {
      const id = newId('race');
      const data = randomBytes(3 * MiB + 5);
      const old = await resumeClient(s1.server.port);
      old.control({ type: 'put_file', id, name: 'big.bin', size: data.length, resume: true });
      await old.next();
      old.data(data.subarray(0, 2 * MiB + 500_000));
      await old.flushed();
      // The old connection stays open (its client is gone without the server knowing it) once 2 chunks are held.
      for (let i = 0; i < 200 && ((await record(id))?.durable ?? 0) < 2 * MiB; i++)
        await new Promise((r) => setTimeout(r, 50));
      const c = await resumeClient(s1.server.port);
      c.control({ type: 'put_file', id, name: 'big.bin', size: data.length, resume: true });
      const ready = await c.next();
      expect(ready).toMatchObject({ type: 'ready', id, offset: 2 * MiB, sha256: sha(data.subarray(0, 2 * MiB)) });
      await old.closed();
      c.data(data.subarray(2 * MiB));
      c.control({ type: 'file_end', id, bytes: data.length, sha256: sha(data) });
      const receipt = await c.next();
      expect(receipt).toMatchObject({ type: 'receipt', id, bytes: data.length, sha256: sha(data), duplicate: false });
      if (receipt?.type !== 'receipt') throw new Error('no receipt');
      expect(sha(await readItem(a, receipt.path))).toBe(sha(data));
      await c.cut();
    } finally {
      await s1.stop();
    }
  });

  test('the same store resumes from its kept hash state; a cut of a continued put keeps both parts', async () => {
    const id = newId('same');
    const data = randomBytes(5 * MiB);
    await cutPut(a, id, data, MiB + 10);
    const second = await a.openFileSink(options(id, data.length, { continue: true }));
    expect([second.offset, second.offsetSha256]).toEqual([MiB, sha(data.subarray(0, MiB))]);
    await writeAll(second, data.subarray(MiB, 3 * MiB + 5));
    await second.suspend();
    expect(await record(id)).toMatchObject({ chunks: 3, durable: 3 * MiB, sha256: sha(data.subarray(0, 3 * MiB)) });
    // Another store reads the three chunks back (two from the first put, one from the second).
    const third = await b.openFileSink(options(id, data.length, { continue: true }));
    expect([third.offset, third.offsetSha256]).toEqual([3 * MiB, sha(data.subarray(0, 3 * MiB))]);
    await writeAll(third, data.subarray(3 * MiB));
    expect(third.sha256()).toBe(sha(data));
    const { item } = await third.commit(meta);
    expect(sha(await readItem(b, item.path))).toBe(sha(data));
  });

  test('a chunk past the recorded ones is removed; a partial that does not hash as recorded is not continued', async () => {
    const id = newId('stray');
    const data = randomBytes(3 * MiB);
    const r = await cutPut(a, id, data, 2 * MiB + 5);
    // A chunk acknowledged after the last record (a server killed between the two) sits after the held ones.
    await a.conn.js.publish(chunkSubject(a.conn, r.nuid), randomBytes(1000));
    expect(await countOn(a.conn, chunkSubject(a.conn, r.nuid))).toBe(3);
    const sink = await b.openFileSink(options(id, data.length, { continue: true }));
    expect([sink.offset, sink.offsetSha256]).toEqual([2 * MiB, sha(data.subarray(0, 2 * MiB))]);
    expect(await countOn(a.conn, chunkSubject(a.conn, r.nuid))).toBe(2);
    await writeAll(sink, data.subarray(2 * MiB));
    const { item } = await sink.commit(meta);
    expect(sha(await readItem(a, item.path))).toBe(sha(data));

    const damaged = newId('damaged');
    const d = await cutPut(a, damaged, data, 2 * MiB + 5);
    const entry = await readPartialEntry(a.conn, keyOfId(damaged));
    await a.conn.partials.update(
      keyOfId(damaged),
      JSON.stringify({ ...d, sha256: sha(Buffer.from('other bytes')) }),
      entry?.revision as number,
    );
    const fresh = await b.openFileSink(options(damaged, data.length, { continue: true }));
    expect([fresh.offset, fresh.offsetSha256]).toEqual([0, undefined]);
    expect(await countOn(a.conn, chunkSubject(a.conn, d.nuid))).toBe(0);
    await fresh.discard();
  });

  test('a resume with another size or encryption, or without resume, discards the partial', async () => {
    for (const ask of [
      { size: 1, continue: true, encryption: 'none' as const },
      { size: 0, continue: true, encryption: 'age' as const },
      { size: 0, continue: false, encryption: 'none' as const },
    ]) {
      const id = newId('mismatch');
      const data = randomBytes(2 * MiB + 30);
      const old = await cutPut(a, id, data, 2 * MiB + 1);
      expect(old.durable).toBe(2 * MiB);
      const sink = await b.openFileSink(options(id, data.length + ask.size, ask));
      expect([sink.offset, sink.offsetSha256]).toEqual([0, undefined]);
      expect(await countOn(a.conn, chunkSubject(a.conn, old.nuid))).toBe(0);
      const now = await record(id);
      expect(now?.nuid).not.toBe(old.nuid);
      expect(now?.durable).toBe(0);
      await sink.discard();
      expect(await record(id)).toBeUndefined();
    }
  });

  test('a put without resume keeps nothing when cut, and leaves a partial of its id alone', async () => {
    const id = newId('plain');
    const data = randomBytes(2 * MiB + 100);
    const kept = await cutPut(a, id, data, 2 * MiB + 1);
    const sink = await b.openFileSink(options(id, data.length));
    expect(sink.offset).toBe(0);
    await writeAll(sink, data.subarray(0, 2 * MiB));
    await new Promise((r) => setTimeout(r, 200));
    await sink.suspend();
    expect(await record(id)).toMatchObject({ nuid: kept.nuid, durable: 2 * MiB });
    expect(await countOn(a.conn, chunkSubject(a.conn, kept.nuid))).toBe(2);
    const again = await a.openFileSink(options(id, data.length, { continue: false }));
    await again.discard();
    expect(await countOn(a.conn, chunkSubject(a.conn, kept.nuid))).toBe(0);
  });

  test('the newer put of an id wins in one process: the older is ended as if cut and continued', async () => {
    const id = newId('newer');
    const data = randomBytes(3 * MiB);
    let older: FileSink | undefined;
    let evicted = 0;
    const suspended: Promise<void>[] = [];
    older = await a.openFileSink(
      options(id, data.length, {
        continue: true,
        evict: () => {
          evicted += 1;
          suspended.push((older as FileSink).suspend());
        },
      }),
    );
    await writeAll(older, data.subarray(0, 2 * MiB + 7));
    await new Promise((r) => setTimeout(r, 300));
    const newer = await a.openFileSink(options(id, data.length, { continue: true }));
    expect(evicted).toBe(1);
    await Promise.all(suspended);
    expect([newer.offset, newer.offsetSha256]).toEqual([2 * MiB, sha(data.subarray(0, 2 * MiB))]);
    await writeAll(newer, data.subarray(2 * MiB));
    const { item } = await newer.commit(meta);
    expect(sha(await readItem(a, item.path))).toBe(sha(data));
  });

  test('a server that dies mid-put leaves its recorded chunks; another claims them once its lease ran out', async () => {
    const id = newId('killed');
    const data = randomBytes(4 * MiB);
    const doomed = await openStore();
    const lease = 300;
    const c = await JetStreamStore.open({
      servers: cluster.urls,
      serverId: newServerId(),
      log,
      clean: false,
      maxDictBytes: MiB,
      partialLeaseMs: lease,
    });
    try {
      const sink = await doomed.openFileSink(options(id, data.length, { continue: true }));
      await writeAll(sink, data.subarray(0, 2 * MiB + 10));
      // Progress is recorded at most a second after it is acknowledged: wait for it, then the server "dies"
      // (its connection closes without a suspend, as after kill -9).
      for (let i = 0; i < 100 && ((await record(id))?.durable ?? 0) < 2 * MiB; i++)
        await new Promise((r) => setTimeout(r, 50));
      await doomed.conn.nc.close();
      const r = await record(id);
      expect(r).toMatchObject({ durable: 2 * MiB, chunks: 2 });
      expect(r?.owner).toBeDefined();
      await new Promise((res) => setTimeout(res, lease + 50));
      const resumed = await c.openFileSink(options(id, data.length, { continue: true }));
      expect([resumed.offset, resumed.offsetSha256]).toEqual([2 * MiB, sha(data.subarray(0, 2 * MiB))]);
      await writeAll(resumed, data.subarray(2 * MiB));
      const { item } = await resumed.commit(meta);
      expect(sha(await readItem(c, item.path))).toBe(sha(data));
    } finally {
      await c.close();
    }
  });

  test('a partial a live put on another server holds is left alone: the new put starts from zero', async () => {
    const id = newId('live');
    const data = randomBytes(2 * MiB);
    const first = await a.openFileSink(options(id, data.length, { continue: true }));
    await writeAll(first, data.subarray(0, MiB + 1));
    const second = await b.openFileSink(options(id, data.length, { continue: true }));
    expect(second.offset).toBe(0);
    await writeAll(second, data);
    const stored = await second.commit(meta);
    expect(sha(await readItem(b, stored.item.path))).toBe(sha(data));
    // The first put is then answered with the first receipt at its commit (it lost the race for the id).
    await writeAll(first, data.subarray(MiB + 1));
    const late = await first.commit(meta);
    expect(late).toMatchObject({ duplicate: true, item: { path: stored.item.path } });
    expect(await record(id)).toBeUndefined();
  });

  test('--partial-ttl removes a partial and its chunks; orphan cleanup keeps a younger one', async () => {
    const id = newId('ttl');
    const data = randomBytes(2 * MiB + 90);
    const r = await cutPut(a, id, data, 2 * MiB + 9);
    await a.cleanOrphans(0);
    expect(await record(id)).toMatchObject({ nuid: r.nuid });
    expect(await countOn(a.conn, chunkSubject(a.conn, r.nuid))).toBe(2);
    const swept = await a.partials.clean(Date.now() + a.partials.ttlMs + 1000);
    expect(swept.removed).toBeGreaterThanOrEqual(1);
    expect(await record(id)).toBeUndefined();
    expect(await countOn(a.conn, chunkSubject(a.conn, r.nuid))).toBe(0);
    const sink = await b.openFileSink(options(id, data.length, { continue: true }));
    expect(sink.offset).toBe(0);
    await sink.discard();
  });
});
