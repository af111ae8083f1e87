/**
 * The journal as the commit point (docs/SERVER.md §5, step 3c): alone on its data directory, a store
 * acknowledges a dictionary once its journal record is durable and writes the item and receipt files just after;
 * until then the receipt is answered from memory, and `listAcknowledged` finds it in the journal. Beside another
 * process, the receipt file is created (exclusively) before the acknowledgement, and a store that starts beside a
 * running one answers retries of the ids that one holds only in its journal.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { makeTempDir, sha256Hex } from '@proj/test-utils';

type TempDir = Awaited<ReturnType<typeof makeTempDir>>;
import { listAcknowledged } from '../src/store/journal-index';
import { decodeSegment } from '../src/store/journal-record';
import { HANDOVER_MIN, Materialiser } from '../src/store/materialiser';
import { newServerId, receiptFileName } from '../src/store/paths';
import { receiptText, type StoredItem } from '../src/store/receipts';
import { Store } from '../src/store/store';

const log = pino({ level: 'silent' });
const bytes = Buffer.from('{"a":1}');
const dict = (id: string) => ({ id, format: 'json' as const, data: bytes, sender: '127.0.0.1:1' });
const receiptPath = (dir: string, id: string): string => join(dir, 'receipts', `${id}.json`);

describe('the journal as the commit point', () => {
  let dir: TempDir;
  const open: Store[] = [];
  const openStore = async (): Promise<Store> => {
    const s = await Store.open(dir.path, newServerId(), log);
    open.push(s);
    return s;
  };
  beforeEach(async () => {
    dir = await makeTempDir('materialise-');
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await dir.remove();
  });

  it('alone: acknowledged before its files exist, answered from memory meanwhile, listed from the journal, then written', async () => {
    const a = await openStore();
    const { item, duplicate } = await a.storeDict(dict('one'));
    expect(duplicate).toBe(false);
    // Same turn of the event loop as the acknowledgement: the files are not written yet.
    expect(existsSync(receiptPath(dir.path, 'one'))).toBe(false);
    expect(existsSync(join(dir.path, item.path))).toBe(false);
    expect(await a.findReceipt('one')).toEqual(item);
    expect((await listAcknowledged(dir.path)).items).toEqual([item]);
    // A retry is the same receipt, and stores nothing.
    expect(await a.storeDict(dict('one'))).toEqual({ item, duplicate: true });

    await a.close();
    open.length = 0;
    expect(JSON.parse(await readFile(receiptPath(dir.path, 'one'), 'utf8'))).toEqual(item);
    const stored = await readFile(join(dir.path, item.path));
    expect(sha256Hex(stored)).toBe(item.sha256);
    expect(await readdir(join(dir.path, 'items', item.path.split('/')[1] as string))).toHaveLength(1);
    expect(await readdir(join(dir.path, 'journal'))).toEqual([]);
  });

  it('under load: a turn with many items hands them to the worker thread, which writes each item then its receipt', async () => {
    const receipts = join(dir.path, 'receipts');
    const items = join(dir.path, 'items');
    await mkdir(receipts);
    await mkdir(items);
    const m = new Materialiser(receipts, log);
    const n = 3 * HANDOVER_MIN;
    const body = (i: number): Buffer => Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(i * 37) }));
    const stored = (i: number): StoredItem => ({
      id: `load:${i}`,
      kind: 'dict',
      path: `items/load-${i}.json`,
      bytes: body(i).length,
      sha256: sha256Hex(body(i)),
      format: 'json',
      encrypted: false,
      receivedAt: '2026-12-03T20:00:00.000Z',
      sender: '127.0.0.1:1',
      serverId: 'test',
    });
    // A view into a larger buffer, as a socket's data often is: only its own bytes are written.
    const big = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < n; i++) {
      const data = i === 0 ? big.subarray(100, 100 + body(0).length).fill(body(0)) : body(i);
      m.add(stored(i), { itemPath: join(dir.path, stored(i).path), data });
    }
    expect(m.get('load:3')).toEqual(stored(3)); // answered from memory until written
    await m.idle();
    expect(m.handedOver).toBe(n);
    expect(m.get('load:3')).toBeUndefined();
    for (let i = 0; i < n; i++) {
      expect(await readFile(join(receipts, receiptFileName(`load:${i}`)), 'utf8')).toBe(receiptText(stored(i)));
      expect(await readFile(join(dir.path, stored(i).path))).toEqual(body(i));
    }
    expect(await m.settled()).toBe(true);
    await m.stop();
  });

  it('a turn with fewer items (one client) writes them on the main thread, without a worker', async () => {
    const receipts = join(dir.path, 'receipts');
    await mkdir(receipts);
    const m = new Materialiser(receipts, log);
    const item: StoredItem = {
      id: 'single',
      kind: 'file',
      path: 'items/single.txt',
      bytes: 0,
      sha256: sha256Hex(Buffer.alloc(0)),
      encrypted: false,
      receivedAt: '2026-12-03T20:00:00.000Z',
      sender: '127.0.0.1:1',
      serverId: 'test',
    };
    for (let i = 1; i < HANDOVER_MIN; i++) m.add({ ...item, id: `single-${i}` });
    await m.idle();
    expect(m.handedOver).toBe(0);
    for (let i = 1; i < HANDOVER_MIN; i++) {
      expect(await readFile(join(receipts, receiptFileName(`single-${i}`)), 'utf8')).toBe(
        receiptText({ ...item, id: `single-${i}` }),
      );
    }
    await m.stop();
  });

  it('concurrent puts of one id in one process: one stored, the other answered with its receipt', async () => {
    const a = await openStore();
    const [x, y] = await Promise.all([a.storeDict(dict('same')), a.storeDict(dict('same'))]);
    expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
    expect(x.item).toEqual(y.item);
    await a.close();
    open.length = 0;
    const day = x.item.path.split('/')[1] as string;
    expect(await readdir(join(dir.path, 'items', day))).toHaveLength(1);
  });

  it('alone: a receipt file written meanwhile by another (stopped) server wins over the journal record', async () => {
    const a = await openStore();
    const first: StoredItem = {
      ...(await a.storeDict(dict('warm'))).item,
      id: 'taken',
      path: 'items/2020-01-01/000000-0badc0de-1-taken-dict.json',
      serverId: '0badc0de-1',
    };
    await writeFile(receiptPath(dir.path, 'taken'), receiptText(first));
    // No findReceipt first: the commit itself finds the receipt after its record is durable.
    expect(await a.storeDict(dict('taken'))).toEqual({ item: first, duplicate: true });
    // The record of the put that lost is withdrawn by an abort record.
    const [segment] = (await readdir(join(dir.path, 'journal'))).filter((n) => n.endsWith('.log'));
    const decoded = decodeSegment(await readFile(join(dir.path, 'journal', segment as string)));
    expect(decoded.aborts?.map((x) => x.id)).toEqual(['taken']);
  });

  it('beside another store: receipts are created before the acknowledgement, and journal-only receipts of the running one are answered', async () => {
    const a = await openStore();
    const pending = await a.storeDict(dict('early'));
    expect(existsSync(receiptPath(dir.path, 'early'))).toBe(false);

    // A second server starts while `early` is only in a's journal.
    const b = await openStore();
    expect(await b.findReceipt('early')).toEqual(pending.item);
    expect(await b.storeDict(dict('early'))).toEqual({ item: pending.item, duplicate: true });

    // a now sees b's lock: its next put's receipt exists when it is acknowledged.
    const shared = await a.storeDict(dict('late'));
    expect(JSON.parse(await readFile(receiptPath(dir.path, 'late'), 'utf8'))).toEqual(shared.item);
    expect(existsSync(join(dir.path, shared.item.path))).toBe(true);
    // And b finds it by its file.
    expect(await b.findReceipt('late')).toEqual(shared.item);
    expect(await b.storeDict(dict('late'))).toEqual({ item: shared.item, duplicate: true });
  });
});
