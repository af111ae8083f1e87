/** Test files: random content written once, hashed, fsynced (hashed again with @proj/test-utils' sha256File). */
import { createHash, randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';
import { MiB } from './units';

/**
 * Writes `bytes` of random data (nothing compresses or dedups) to `path` in 1 MiB blocks, fsyncs it, and returns
 * its SHA-256. The file stays in the page cache, as a file just written or read would for a user.
 */
export async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const handle = await open(path, 'w', 0o600);
  const hash = createHash('sha256');
  try {
    const block = Buffer.allocUnsafe(MiB);
    for (let left = bytes; left > 0; left -= block.length) {
      const piece = left >= block.length ? block : block.subarray(0, left);
      randomFillSync(piece);
      hash.update(piece);
      await handle.write(piece);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** fsync(2) on an existing file: what makes the baseline's copy as durable as our stored file. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
