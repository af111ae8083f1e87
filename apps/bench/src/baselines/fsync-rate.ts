/**
 * The disk's naive durable-write limit: one thread creating a file, writing 200 bytes, fsyncing and closing it,
 * back to back for a fixed time, in a directory on the same file system as the server's data directory. A server
 * that fsyncs each acknowledgement on its own cannot beat this rate by much; one that beats it shares fsyncs.
 *
 * The files are left in `dir`, the run's work directory, removed when the run ends (why: ../rows/dicts.ts).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface FsyncRate {
  perSecond: number;
  files: number;
  seconds: number;
}

export async function createFsyncRate(dir: string, durationMs: number, bytes = 200): Promise<FsyncRate> {
  const where = join(dir, 'fsync-rate');
  mkdirSync(where, { recursive: true });
  const data = Buffer.alloc(bytes, 0x61);
  const start = process.hrtime.bigint();
  const until = start + BigInt(durationMs) * 1_000_000n;
  let files = 0;
  // Synchronous calls on purpose: this measures the disk, not the event loop or the thread pool.
  while (process.hrtime.bigint() < until) {
    const fd = openSync(join(where, `f${files}`), 'wx', 0o600);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    files += 1;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { perSecond: files / seconds, files, seconds };
}
