/**
 * Resume after the server was killed (docs/PROTOCOL.md §4, "Resuming"; docs/SERVER.md "Resume"): a server run as
 * a child process (dist/main.js) is SIGKILLed in the middle of a put; the next server on the same data directory
 * answers the resume from the last durable count recorded (what it recorded after an fdatasync), hashes that
 * prefix back from the disk, and the file completes with only the missing bytes sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@proj/test-utils';
import { buildServer, spawnServer, type ChildServer } from '../reliability/harness';
import { waitFor } from '../helpers';
import { partialRecords, resumeClient } from './resume-client';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const SIZE = 24 * 1024 * 1024;
const source = randomBytes(SIZE);

let dir: { path: string; remove: () => Promise<void> };
let server: ChildServer | undefined;
beforeAll(async () => {
  buildServer();
  dir = await makeTempDir('resume-kill-');
}, 120_000);
afterAll(async () => {
  await server?.kill('SIGKILL');
  await dir.remove();
});

test('kill -9 mid-put: the next server resumes from the recorded durable count', async () => {
  const dataDir = join(dir.path, 'data');
  server = await spawnServer(dataDir, ['--log-level', 'info']);
  const c = await resumeClient(server.port);
  c.control({ type: 'put_file', id: 'killed', name: 'big.bin', size: SIZE, resume: true });
  expect(await c.next()).toEqual({ type: 'ready', id: 'killed', offset: 0 });
  // Some bytes, a pause past RECORD_MS, then more: the write after the pause records what is durable by then.
  c.data(source.subarray(0, 8 * 1024 * 1024));
  await c.flushed();
  await new Promise((r) => setTimeout(r, 1200));
  c.data(source.subarray(8 * 1024 * 1024, 16 * 1024 * 1024));
  await c.flushed();
  await waitFor(() => (partialRecords(dataDir).get('killed')?.durable ?? 0) > 0, 10_000);
  await server.kill('SIGKILL');
  await c.closed();
  const recorded = partialRecords(dataDir).get('killed')?.durable ?? 0;
  expect(recorded).toBeGreaterThan(0);
  expect(recorded).toBeLessThanOrEqual(16 * 1024 * 1024);

  server = await spawnServer(dataDir, ['--log-level', 'info']);
  const r = await resumeClient(server.port);
  r.control({ type: 'put_file', id: 'killed', name: 'big.bin', size: SIZE, resume: true });
  const ready = await r.next();
  expect(ready).toEqual({ type: 'ready', id: 'killed', offset: recorded, sha256: sha(source.subarray(0, recorded)) });
  r.data(source.subarray(recorded));
  r.control({ type: 'file_end', id: 'killed', bytes: SIZE, sha256: sha(source) });
  const receipt = await r.next();
  expect(receipt).toMatchObject({ type: 'receipt', bytes: SIZE, sha256: sha(source), duplicate: false });
  expect(r.dataBytes).toBe(SIZE - recorded);
  expect(sha(readFileSync(join(dataDir, (receipt as { path: string }).path)))).toBe(sha(source));
  await r.cut();
  await server.kill('SIGTERM');
  server = undefined;
}, 120_000);
