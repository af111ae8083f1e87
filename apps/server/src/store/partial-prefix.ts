/**
 * Reading a partial's prefix back (./partials.ts): the SHA-256 state of its first bytes, to continue hashing the
 * rest of the file, and its head, to recognise an age header. Node's Hash cannot be saved to disk, so a partial
 * written by another process (or before a restart) is read once at its resume: docs/SERVER.md "Resume" has the
 * measurement.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Bytes of a file kept to recognise an age header. */
export const HEAD_BYTES = 64;
/** Read size: large reads keep the cost at the hash's own speed. */
const READ_BYTES = 1024 * 1024;

/** Hashes the first `bytes` bytes of `path` (which holds at least that many); also returns the first 64. */
export async function readPrefix(path: string, bytes: number): Promise<{ hash: Hash; head: Buffer }> {
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  if (bytes === 0) return { hash, head };
  const stream = createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: READ_BYTES });
  let read = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
    hash.update(chunk);
    read += chunk.length;
  }
  if (read !== bytes) throw new Error(`partial ${path} holds ${read} bytes, expected ${bytes}`);
  return { hash, head };
}
