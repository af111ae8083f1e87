import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import pino from 'pino';
import { join } from 'node:path';
import { connect } from '@proj/protocol';
import { listFiles, makeTempDir, sha256Hex } from '@proj/test-utils';
import { listReceived } from '../src/index';
import { cleanStale } from '../src/store/cleanup';
import { ServerLock } from '../src/store/liveness';
import { chunks, RawClient, startTestServer, waitFor, type TestServer } from './helpers';

describe('durability and idempotency', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ output: 'file' });
  });
  afterEach(async () => {
    await t.stop();
  });

  it('a connection dropped mid-file stores nothing and leaves no temporary; the server goes on', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'drop-1', name: 'big.bin', size: 1_000_000 });
    expect(await c.next()).toEqual({ type: 'ready', id: 'drop-1', offset: 0 });
    c.data(Buffer.alloc(300_000, 7));
    await waitFor(async () => (await listFiles(join(t.dataDir, 'tmp'))).length === 1);
    c.destroy();
    await waitFor(async () => (await listFiles(join(t.dataDir, 'tmp'))).length === 0);
    expect(await listFiles(join(t.dataDir, 'items'))).toEqual([]);
    expect(await listReceived(t.dataDir)).toEqual([]);

    // The retry with the same id goes through, once.
    const client = await connect({ port: t.server.port });
    const body = Buffer.alloc(1_000_000, 7);
    const r1 = await client.sendStream(chunks(body), { id: 'drop-1', name: 'big.bin', size: body.length });
    expect(r1).toMatchObject({ duplicate: false, bytes: body.length, sha256: sha256Hex(body) });
    const r2 = await client.sendStream(chunks(body), { id: 'drop-1', name: 'big.bin', size: body.length });
    expect(r2).toEqual({ ...r1, duplicate: true });
    await client.close();
    expect(await listFiles(join(t.dataDir, 'items'))).toEqual([r1.path.slice('items/'.length)]);
  });

  it('a dictionary put repeated with the same id returns the first receipt and stores nothing new', async () => {
    const client = await connect({ port: t.server.port });
    const r1 = await client.sendDict({ n: 1 }, { id: 'same-id' });
    const r2 = await client.sendDict({ n: 1 }, { id: 'same-id' });
    expect(r2).toEqual({ ...r1, duplicate: true });
    // Different content under a stored id: the first receipt comes back, and the client notices the mismatch.
    await expect(client.sendDict({ n: 2 }, { id: 'same-id' })).rejects.toMatchObject({ code: 'ERR_RECEIPT_MISMATCH' });
    await client.close();
    expect((await listReceived(t.dataDir)).length).toBe(1);
    expect((await listFiles(join(t.dataDir, 'items'))).length).toBe(1);
  });

  it('a file put of a stored id is answered with the receipt before any byte moves', async () => {
    const client = await connect({ port: t.server.port });
    const r1 = await client.sendStream(chunks(Buffer.from('abc')), { id: 'f-dup', name: 'a.txt' });
    await client.close();
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'f-dup', name: 'a.txt' });
    expect(await c.next()).toEqual({ ...r1, duplicate: true });
    c.destroy();
  });

  it('a file cancelled by the client leaves nothing', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'cx', name: 'a.txt' });
    await c.next();
    c.data(Buffer.from('partial'));
    c.control({ type: 'cancel', id: 'cx' });
    c.control({ type: 'ping', nonce: 'after-cancel' });
    expect(await c.next()).toEqual({ type: 'pong', nonce: 'after-cancel' });
    expect(await listFiles(join(t.dataDir, 'tmp'))).toEqual([]);
    expect(await listFiles(join(t.dataDir, 'items'))).toEqual([]);
    c.destroy();
  });

  it('receipt paths stay inside the data directory, with / separators and no ..', async () => {
    const client = await connect({ port: t.server.port });
    const r = await client.sendDict({ a: 1 }, { id: 'urn:uuid:1234' });
    await client.close();
    expect(r.path).not.toContain('..');
    expect(r.path).toMatch(/^items\/\d{4}-\d{2}-\d{2}\/\d{6}-[0-9a-f]{8}-\d+-urn_uuid_1234-dict\.json$/);
    expect(await readdir(join(t.dataDir, 'receipts'))).toEqual(['urn%3Auuid%3A1234.json']);
  });
});

describe('two servers sharing one data directory', () => {
  it('store distinct items without clashing, and one id only once', async () => {
    const dir = await makeTempDir();
    const a = await startTestServer({ dataDir: dir.path, output: 'file' });
    const b = await startTestServer({ dataDir: dir.path, output: 'file' });
    try {
      expect(a.server.serverId).not.toBe(b.server.serverId);
      expect(a.server.recipient).toBe(b.server.recipient);
      const ca = await connect({ port: a.server.port });
      const cb = await connect({ port: b.server.port });
      const puts = [];
      for (let i = 0; i < 20; i++) {
        puts.push(ca.sendDict({ i, from: 'a' }, { id: `a-${i}` }));
        puts.push(cb.sendDict({ i, from: 'b' }, { id: `b-${i}` }));
      }
      // The same id to both at once: exactly one stores it.
      const same = Buffer.from('{"same":true}');
      const [ra, rb] = await Promise.all([
        ca.sendDictBytes(same, { format: 'json', id: 'shared-id' }),
        cb.sendDictBytes(same, { format: 'json', id: 'shared-id' }),
      ]);
      await Promise.all(puts);
      await ca.close();
      await cb.close();
      expect([ra.duplicate, rb.duplicate].sort()).toEqual([false, true]);
      expect(ra.path).toBe(rb.path);
      const items = await listReceived(dir.path);
      expect(items.length).toBe(41);
      expect((await listFiles(join(dir.path, 'items'))).length).toBe(41);
    } finally {
      await a.stop();
      await b.stop();
      await dir.remove();
    }
  });
});

describe('start-up cleaning', () => {
  it('removes dead processes’ temporaries and unacknowledged items, keeps acknowledged ones', async () => {
    const dir = await makeTempDir();
    try {
      // A first run stores one item.
      const first = await startTestServer({ dataDir: dir.path, output: 'file' });
      const client = await connect({ port: first.server.port });
      const kept = await client.sendDict({ keep: true }, { id: 'kept' });
      await client.close();
      await first.server.close();

      // Leftovers of a crashed process (no lock held) and of a live foreign one (it holds its lock; the pids in
      // the ids mean nothing).
      const day = kept.path.split('/')[1] as string;
      const dead = 'deadbeef-999999';
      const live = 'cafebabe-1';
      const liveLock = ServerLock.acquire(dir.path, live, pino({ level: 'silent' }));
      await writeFile(join(dir.path, 'tmp', `${dead}.1.part`), 'partial');
      await writeFile(join(dir.path, 'tmp', `${live}.1.part`), 'in progress elsewhere');
      await writeFile(join(dir.path, 'items', day, `120000-${dead}-orphan-a.txt`), 'never acknowledged');
      await writeFile(join(dir.path, 'items', day, `120000-${live}-inflight-b.txt`), 'being committed elsewhere');
      await mkdir(join(dir.path, 'items', 'not-a-day'), { recursive: true });

      const second = await startTestServer({ dataDir: dir.path, output: 'file' });
      try {
        expect(await readdir(join(dir.path, 'tmp'))).toEqual([`${live}.1.part`]);
        const items = (await listFiles(join(dir.path, 'items'))).sort();
        expect(items).toContain(kept.path.slice('items/'.length));
        expect(items).toContain(`${day}/120000-${live}-inflight-b.txt`);
        expect(items).not.toContain(`${day}/120000-${dead}-orphan-a.txt`);
        expect(JSON.parse(await readFile(join(dir.path, 'receipts', 'kept.json'), 'utf8'))).toMatchObject({
          id: 'kept',
          path: kept.path,
        });
        expect(sha256Hex(await readFile(join(dir.path, kept.path)))).toBe(kept.sha256);
      } finally {
        await second.server.close();
      }
      // An hour later, the live owner's orphan counts as stale too; its temporary only after a day.
      const log = pino({ level: 'silent' });
      expect(await cleanStale(dir.path, 'ffffffff-1', log, Date.now() + 2 * 3600_000)).toEqual({
        temps: 0,
        orphans: 1,
      });
      expect(await cleanStale(dir.path, 'ffffffff-1', log, Date.now() + 25 * 3600_000)).toEqual({
        temps: 1,
        orphans: 0,
      });
      expect((await listFiles(join(dir.path, 'items'))).sort()).toEqual([kept.path.slice('items/'.length)]);
      liveLock.release();
    } finally {
      await dir.remove();
    }
  });
});
