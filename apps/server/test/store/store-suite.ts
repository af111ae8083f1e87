/**
 * One suite for every store behind ../../src/store/item-store.ts: the local data directory and a NATS JetStream
 * cluster run the same cases (./local-store.test.ts, ./jetstream-store.test.ts), the operator's commands on them
 * included (./operator-cases.ts). A backend provides shared
 * storage that several stores (several servers) open at once, says what it holds that no receipt names, and
 * collects orphans the way it does in service.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sha256Hex } from '@proj/test-utils';
import { InputBudget } from '../../src/input-budget';
import type { StartOptions } from '../../src/options';
import type { FileSink, ItemStore } from '../../src/store/item-store';
import type { StoredItem } from '../../src/store/receipts';
import { RawClient, startTestServer } from '../helpers';
import { operatorCases } from './operator-cases';

export interface StoreBackend {
  /** Why the suite cannot run here (printed and skipped), or undefined. */
  skipReason(): string | undefined;
  /** Prepares the shared storage (a directory, a cluster). */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new store on the shared storage, as a new server would open it. */
  open(): Promise<ItemStore>;
  /** Options that make a server (../helpers.ts startTestServer) use the shared storage. */
  serverOptions(): Partial<StartOptions>;
  /** What the storage holds that no receipt names: temporaries, items, objects, chunks (for messages). */
  leftovers(): Promise<string[]>;
  /** Collects orphans as the backend does in service, with no minimum age. */
  collect(): Promise<void>;
  /** The options that make the operator's commands use the shared storage (`--data-dir D`, `--store nats://…`). */
  cliArgs(): string[];
  /** Loses a stored item's bytes as a hand or a fault might, leaving its receipt. */
  loseBytes(item: StoredItem): Promise<void>;
}

/** A put id unique to this run. */
function newId(prefix: string): string {
  return `${prefix}:${randomBytes(4).toString('hex')}.x`;
}

function sinkOptions(id: string, size?: number) {
  return { id, size, budget: new InputBudget(64 * 1024 * 1024), signal: new AbortController().signal };
}

/** Hands `bytes` to a sink in pieces of `piece` bytes, waiting when it asks. */
async function writeAll(sink: FileSink, bytes: Buffer, piece = 64 * 1024): Promise<void> {
  for (let at = 0; at < bytes.length; at += piece) await sink.write(bytes.subarray(at, at + piece));
}

async function readAll(store: ItemStore, path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of store.openReader(path, 256 * 1024)) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

const FILE_META = { name: 'notes.bin', cleanedName: 'notes.bin', declared: 'none' as const, sender: '127.0.0.1:1' };

export function storeSuite(name: string, backend: StoreBackend): void {
  const reason = backend.skipReason();
  if (reason !== undefined) {
    // A suite that cannot run says why, once, and shows as skipped.
    console.warn(`skipped: the ${name} store suite: ${reason}`);
    describe.skip(`the ${name} store`, () => test('skipped', () => undefined));
    return;
  }

  describe(`the ${name} store`, () => {
    const open: ItemStore[] = [];
    const openStore = async (): Promise<ItemStore> => {
      const store = await backend.open();
      open.push(store);
      return store;
    };

    beforeAll(() => backend.setup(), 60_000);
    afterAll(() => backend.teardown(), 60_000);
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    test('first writer wins an id across two stores sharing the storage; both answer with its receipt', async () => {
      const [a, b] = [await openStore(), await openStore()];
      const id = newId('race');
      const results = await Promise.all(
        [a, b].map((store, i) =>
          store.storeDict({ id, format: 'json', data: Buffer.from(`{"from":${i}}`), sender: `127.0.0.1:${i + 1}` }),
        ),
      );
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      const first = results.find((r) => !r.duplicate)?.item;
      for (const r of results) expect(r.item).toEqual(first);
      expect(await a.findReceipt(id)).toEqual(first);
      expect(await b.findReceipt(id)).toEqual(first);
      const { head } = await b.readHead(first?.path ?? '', 100);
      expect(sha256Hex(head)).toBe(first?.sha256);

      // Two files racing for one id: one is stored, the other's bytes are gone and it answers the first receipt.
      const fileId = newId('race-file');
      const sinks = await Promise.all([a, b].map((s) => s.openFileSink(sinkOptions(fileId))));
      const bodies = [randomBytes(300_000), randomBytes(200_000)];
      await Promise.all(sinks.map((sink, i) => writeAll(sink, bodies[i] as Buffer)));
      const commits = await Promise.all(sinks.map((sink) => sink.commit(FILE_META)));
      expect(commits.filter((c) => !c.duplicate)).toHaveLength(1);
      const winner = commits.find((c) => !c.duplicate)?.item;
      for (const c of commits) expect(c.item).toEqual(winner);
      expect(sha256Hex(await readAll(a, winner?.path ?? ''))).toBe(winner?.sha256);
      expect(await backend.leftovers()).toEqual([]);
    });

    test('a duplicate put is answered with the first receipt before any byte moves, by another server', async () => {
      const [s1, s2] = [await startTestServer(backend.serverOptions()), await startTestServer(backend.serverOptions())];
      try {
        const id = newId('dup');
        const c1 = await RawClient.welcomed(s1.server.port);
        c1.control({ type: 'put_file', id, name: 'a.txt', size: 5 });
        expect(await c1.next()).toMatchObject({ type: 'ready', id });
        c1.data(Buffer.from('hello'));
        c1.control({ type: 'file_end', id, bytes: 5, sha256: sha256Hex(Buffer.from('hello')) });
        const first = await c1.next();
        expect(first).toMatchObject({ type: 'receipt', id, duplicate: false, bytes: 5 });
        c1.destroy();

        // The retry reaches the other server: no `ready`, the receipt at once.
        const c2 = await RawClient.welcomed(s2.server.port);
        c2.control({ type: 'put_file', id, name: 'a.txt', size: 5 });
        const again = await c2.next();
        expect(again).toMatchObject({ type: 'receipt', id, duplicate: true });
        expect({ ...(again as object), duplicate: false }).toEqual(first);
        c2.destroy();
      } finally {
        await s1.stop();
        await s2.stop();
      }
    });

    test('a dictionary round trip: bytes, size, SHA-256, format and the path it is read back from', async () => {
      const store = await openStore();
      const id = newId('dict');
      const data = Buffer.from(JSON.stringify({ big: 'x'.repeat(900 * 1024) }));
      const { item, duplicate } = await store.storeDict({ id, format: 'json', data, sender: '127.0.0.1:9' });
      expect(duplicate).toBe(false);
      expect(item).toMatchObject({ id, kind: 'dict', format: 'json', bytes: data.length, encrypted: false });
      expect(item.sha256).toBe(sha256Hex(data));
      expect(item.path).toMatch(/^items\/\d{4}-\d{2}-\d{2}\/\d{6}-/);
      expect((await readAll(store, item.path)).equals(data)).toBe(true);
      const head = await store.readHead(item.path, 10);
      expect(head).toEqual({ head: data.subarray(0, 10), more: true });
      const again = await store.storeDict({ id, format: 'json', data: Buffer.from('{}'), sender: '127.0.0.1:10' });
      expect(again).toEqual({ item, duplicate: true });
    });

    test('a file round trip: every byte back, SHA-256 checked, receipt as the sink computed it', async () => {
      const store = await openStore();
      const id = newId('file');
      const data = randomBytes(3 * 1024 * 1024 + 12_345);
      const sink = await store.openFileSink(sinkOptions(id, data.length));
      await writeAll(sink, data, 65_536);
      expect(sink.received).toBe(data.length);
      expect(sink.sha256()).toBe(createHash('sha256').update(data).digest('hex'));
      expect(sink.failure).toBeUndefined();
      const { item, duplicate } = await sink.commit(FILE_META);
      expect(duplicate).toBe(false);
      expect(item).toMatchObject({ id, kind: 'file', bytes: data.length, sha256: sink.sha256(), name: 'notes.bin' });
      expect(item.path).toMatch(/notes\.bin$/);
      const back = await readAll(store, item.path);
      expect(back.length).toBe(data.length);
      expect(sha256Hex(back)).toBe(item.sha256);
      expect(await store.readHead(item.path, 5)).toEqual({ head: data.subarray(0, 5), more: true });
      // An empty file is a file too.
      const empty = await store.openFileSink(sinkOptions(newId('empty'), 0));
      const stored = await empty.commit(FILE_META);
      expect(stored.item.bytes).toBe(0);
      expect((await readAll(store, stored.item.path)).length).toBe(0);
      expect(await backend.leftovers()).toEqual([]);
    });

    test('a discarded put leaves nothing, and its id stays free', async () => {
      const store = await openStore();
      const id = newId('discard');
      const sink = await store.openFileSink(sinkOptions(id));
      await writeAll(sink, randomBytes(2 * 1024 * 1024 + 7));
      await sink.discard();
      expect(await backend.leftovers()).toEqual([]);
      expect(await store.findReceipt(id)).toBeUndefined();
      expect((await store.list()).items.map((i) => i.id)).not.toContain(id);
    });

    test('a size or SHA-256 mismatch at file_end is refused and leaves nothing', async () => {
      const s = await startTestServer(backend.serverOptions());
      try {
        const c = await RawClient.welcomed(s.server.port);
        const body = randomBytes(1_500_000);
        c.control({ type: 'put_file', id: 'sha-bad', name: 'a.bin' });
        expect(await c.next()).toMatchObject({ type: 'ready' });
        for (let at = 0; at < body.length; at += 60_000) c.data(body.subarray(at, at + 60_000));
        c.control({ type: 'file_end', id: 'sha-bad', bytes: body.length, sha256: sha256Hex(Buffer.from('other')) });
        expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_CHECKSUM_MISMATCH', fatal: false });
        c.control({ type: 'put_file', id: 'size-bad', name: 'a.bin' });
        expect(await c.next()).toMatchObject({ type: 'ready' });
        for (let at = 0; at < body.length; at += 60_000) c.data(body.subarray(at, at + 60_000));
        c.control({ type: 'file_end', id: 'size-bad', bytes: body.length + 1, sha256: sha256Hex(body) });
        expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_SIZE_MISMATCH', fatal: false });
        c.control({ type: 'ping', nonce: 'n' });
        expect(await c.next()).toEqual({ type: 'pong', nonce: 'n' });
        c.destroy();
      } finally {
        await s.stop();
      }
      const store = await openStore();
      expect(await store.findReceipt('sha-bad')).toBeUndefined();
      expect(await store.findReceipt('size-bad')).toBeUndefined();
      expect(await backend.leftovers()).toEqual([]);
    });

    test('an upload that never reached its commit is collected as an orphan; stored items stay', async () => {
      const a = await openStore();
      const kept = await a.storeDict({ id: newId('kept'), format: 'json', data: Buffer.from('[1]'), sender: 'x:1' });
      const keptSink = await a.openFileSink(sinkOptions(newId('kept-file')));
      await writeAll(keptSink, randomBytes(1_200_000));
      const keptFile = await keptSink.commit(FILE_META);
      const abandoned = await a.openFileSink(sinkOptions(newId('crash')));
      // More than a store keeps in flight (the JetStream sink: 8 chunks of 1 MiB), so that some of it has surely
      // reached the store when the server stops: with less, a close could drop every chunk still on its way.
      await writeAll(abandoned, randomBytes(10_500_000));
      // The server stops without committing or discarding, as a crash would leave it.
      await a.close();
      open.splice(open.indexOf(a), 1);
      expect(await backend.leftovers()).not.toEqual([]);
      await backend.collect();
      expect(await backend.leftovers()).toEqual([]);
      const b = await openStore();
      expect(await b.findReceipt(kept.item.id)).toEqual(kept.item);
      expect(sha256Hex(await readAll(b, keptFile.item.path))).toBe(keptFile.item.sha256);
    });

    test('list: every item once, oldest first, with what its receipt says', async () => {
      const store = await openStore();
      const before = (await store.list()).items.length;
      const d = await store.storeDict({ id: newId('list'), format: 'xml', data: Buffer.from('<a/>'), sender: 'x:2' });
      await new Promise((r) => setTimeout(r, 5)); // a later receivedAt, so the order is the time's
      const sink = await store.openFileSink(sinkOptions(newId('list-file')));
      await writeAll(sink, Buffer.from('list me'));
      const f = await sink.commit(FILE_META);
      const other = await openStore();
      const { items, damaged } = await other.list();
      expect(damaged).toEqual([]);
      expect(items).toHaveLength(before + 2);
      expect(items.slice(-2)).toEqual([d.item, f.item]);
      const times = items.map((i) => i.receivedAt);
      expect([...times].sort()).toEqual(times);
      expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    });

    describe('the operator commands', () => operatorCases(backend, openStore));
  });
}
