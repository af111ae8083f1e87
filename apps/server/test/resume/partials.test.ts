/**
 * Partials kept and removed (docs/SERVER.md "Resume"): the `--partial-ttl` sweep (at start, periodically, and
 * `Partials.clean` at a given time), and two servers sharing one data directory: a partial claimed by a live
 * server is left alone, one it let go is continued by the other (its prefix hashed back from the disk).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { Partials } from '../../src/store/partials';
import { startTestServer, waitFor, type TestServer } from '../helpers';
import { partialFiles, partialRecords, resumeClient } from './resume-client';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const SIZE = 2 * 1024 * 1024;
const source = randomBytes(SIZE);
const silent = pino({ level: 'silent' });

async function cutAfter(port: number, id: string, n: number): Promise<void> {
  const c = await resumeClient(port);
  c.control({ type: 'put_file', id, name: 'f.bin', size: SIZE, resume: true });
  await c.next();
  c.data(source.subarray(0, n));
  await c.flushed();
  await c.cut();
}

describe('expiry', () => {
  let ts: TestServer;
  afterEach(async () => {
    await ts.stop();
  });

  test('clean() removes a partial last written more than the TTL ago, and only then', async () => {
    ts = await startTestServer();
    await cutAfter(ts.server.port, 'old', 100_000);
    await waitFor(() => partialRecords(ts.dataDir).get('old')?.durable === 100_000);
    await waitFor(() => !partialFiles(ts.dataDir).some((n) => n.endsWith('.owner')));
    const touched = Date.parse(partialRecords(ts.dataDir).get('old')?.touchedAt as string);
    const sweeper = new Partials(ts.dataDir, 'feedf00d-1', silent, 60_000);
    expect(await sweeper.clean(touched + 60_000)).toBe(0);
    expect(partialFiles(ts.dataDir).length).toBe(2); // the record and its bytes
    expect(await sweeper.clean(touched + 60_001)).toBe(1);
    expect(partialFiles(ts.dataDir)).toEqual([]);
    // Nothing to continue any more.
    const c = await resumeClient(ts.server.port);
    c.control({ type: 'put_file', id: 'old', name: 'f.bin', size: SIZE, resume: true });
    expect(await c.next()).toEqual({ type: 'ready', id: 'old', offset: 0 });
    await c.cut();
  });

  test('the server sweeps expired partials while it runs (--partial-ttl 1s)', async () => {
    ts = await startTestServer({ partialTtlMs: 1000 });
    await cutAfter(ts.server.port, 'brief', 50_000);
    await waitFor(() => partialRecords(ts.dataDir).has('brief'));
    await waitFor(() => partialFiles(ts.dataDir).length === 0, 15_000);
  });

  test('the server sweeps expired partials when it starts', async () => {
    ts = await startTestServer();
    await cutAfter(ts.server.port, 'restart', 50_000);
    await waitFor(() => partialRecords(ts.dataDir).has('restart'));
    const first = ts;
    await first.server.close();
    // A TTL of 0: every partial is expired at the next start.
    ts = await startTestServer({ dataDir: first.dataDir, partialTtlMs: 0 });
    expect(partialFiles(ts.dataDir)).toEqual([]);
    await ts.server.close();
    ts = first; // its directory is removed after the test
  });
});

describe('two servers sharing a data directory', () => {
  let a: TestServer;
  let b: TestServer;
  beforeEach(async () => {
    a = await startTestServer();
    b = await startTestServer({ dataDir: a.dataDir });
  });
  afterEach(async () => {
    await b.server.close();
    await a.stop();
  });

  test('a partial in use by the other live server is left alone: the put goes on without one', async () => {
    const busy = await resumeClient(a.server.port);
    busy.control({ type: 'put_file', id: 'shared', name: 'f.bin', size: SIZE, resume: true });
    await busy.next();
    busy.data(source.subarray(0, 300_000));
    await busy.flushed();
    await waitFor(() => partialFiles(a.dataDir).some((n) => n.endsWith('.owner')));
    const other = await resumeClient(b.server.port);
    other.control({ type: 'put_file', id: 'shared', name: 'f.bin', size: SIZE, resume: true });
    expect(await other.next()).toEqual({ type: 'ready', id: 'shared', offset: 0 });
    other.data(source);
    other.control({ type: 'file_end', id: 'shared', bytes: SIZE, sha256: sha(source) });
    expect(await other.next()).toMatchObject({ type: 'receipt', sha256: sha(source), duplicate: false });
    await other.cut();
    // The first server's put was not disturbed: finished now, it gets the first receipt.
    busy.data(source.subarray(300_000));
    busy.control({ type: 'file_end', id: 'shared', bytes: SIZE, sha256: sha(source) });
    expect(await busy.next()).toMatchObject({ type: 'receipt', sha256: sha(source), duplicate: true });
    await busy.cut();
    await waitFor(() => partialFiles(a.dataDir).length === 0);
  });

  test('a partial one server let go is continued by the other', async () => {
    await cutAfter(a.server.port, 'moved', 1_234_567);
    await waitFor(() => partialRecords(a.dataDir).get('moved')?.durable === 1_234_567);
    await waitFor(() => !partialFiles(a.dataDir).some((n) => n.endsWith('.owner')));
    const c = await resumeClient(b.server.port);
    c.control({ type: 'put_file', id: 'moved', name: 'f.bin', size: SIZE, resume: true });
    expect(await c.next()).toEqual({
      type: 'ready',
      id: 'moved',
      offset: 1_234_567,
      sha256: sha(source.subarray(0, 1_234_567)),
    });
    c.data(source.subarray(1_234_567));
    c.control({ type: 'file_end', id: 'moved', bytes: SIZE, sha256: sha(source) });
    const receipt = await c.next();
    expect(receipt).toMatchObject({ type: 'receipt', sha256: sha(source) });
    expect(sha(readFileSync(join(a.dataDir, (receipt as { path: string }).path)))).toBe(sha(source));
    expect(c.dataBytes).toBe(SIZE - 1_234_567);
    await c.cut();
  });
});
