/**
 * The write path of a file put: the bytes received are gathered into write buffers taken from the input budget,
 * handed to the disk in order (small synchronous writes first, then the thread pool), with a bounded window of
 * bytes in flight. The file sink (./file-sink.ts) decides when to wait; this module only tracks the buffers and
 * the writes.
 */
import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { StorageError } from '@proj/protocol';
import type { InputBudget } from '../input-budget';

/**
 * Data frames are gathered up to this many bytes before one write: a client sending a file in one-byte or empty
 * frames must not cost the server one write per frame (the reliability fuzzer found such sessions starving
 * everyone else's writes and fsyncs on the thread pool). They are gathered by copying into write buffers of this
 * size that a put reuses once written (see FileWrites.spare).
 */
export const WRITE_BATCH_BYTES = 1024 * 1024;
/**
 * Bytes of a file put handed to the disk and not yet written: the socket keeps being read while they are
 * written, and is paused only when this window is full. Held only by a connection in the middle of a file put.
 * One write buffer: while the page cache takes the small synchronous writes at once (the normal case) a buffer is
 * written as soon as it fills and the window never fills; when the disk stalls (an fdatasync, dirty-page
 * throttling), the bytes the client keeps sending wait in the kernel's socket buffers instead of ours. Measured on a
 * 1 GiB put (docs/BENCHMARKS.md, "Memory"): 4 MiB held up to 5 write buffers and a peak RSS of 68-70 MiB; 1 MiB
 * 64-66.6 MiB, with the same rate and server CPU time per GiB.
 */
export const WRITE_WINDOW_BYTES = 1024 * 1024;
/**
 * A file's bytes go to the page cache in write(2) calls of this size, made on the main thread. On this kind of VM
 * (free memory handed back to the host while idle) the kernel's copy into the page cache costs 3-5x more when a
 * call writes more: after a few seconds idle, 1 GiB took 1.0-1.9 s of system time in 64 KiB-1 MiB writes, and
 * 0.3-0.6 s in 8 KiB ones (larger writes get larger page-cache folios, whose memory the host must fault back in;
 * writev does not help, it is one call). socat writes 8 KiB. Through the thread pool, 8 KiB writes cost ~5 s of
 * overhead per GiB, so they are made synchronously: ~2.5 µs each when the page cache takes them at once.
 */
const WRITE_PIECE_BYTES = 8 * 1024;
/**
 * How long a write buffer may hold the event loop in small synchronous writes. When the page cache stops taking
 * them at once (dirty-page throttling, a slow disk), the rest of the buffer goes through the thread pool, so other
 * connections are not kept waiting; the next buffer tries again. 1 MiB normally takes 0.3-0.6 ms.
 */
const SYNC_WRITE_BUDGET_MS = 4;

/** The writes of a file put in progress. */
export interface FileWrites {
  handle: FileHandle;
  /** The file's size when the client announced it. */
  size: number | undefined;
  /** Bytes received, gathered or not. */
  received: number;
  /** Bytes written to the file, in order (a partial records how many of them are durable: ./partials.ts). */
  written: number;
  /**
   * The write buffer being filled with the bytes received and not yet written, and how many it holds: frames are
   * gathered into one write (see WRITE_BATCH_BYTES).
   */
  gather: Buffer | undefined;
  gathered: number;
  /**
   * Write buffers whose writes are done, for the next ones. A new 1 MiB buffer per write, held while it is
   * written, is memory outside V8's heap that drives its full collections (--trace-gc on a 1 GiB put: ~66 of them
   * before, ~40 after; the rest come from the socket's own 64 KiB read buffers).
   */
  spare: Buffer[];
  /** Writes handed to the disk, in order, each settling (never rejecting) when done; and their bytes. */
  writes: Promise<void>[];
  writingBytes: number;
  /** The first failed write (later writes are skipped); or set when the put is discarded. */
  writeError?: unknown;
  /** The input budget its buffers come from; bytes taken from it, and of those not in a buffer yet. */
  budget: InputBudget;
  reserved: number;
  free: number;
}

/**
 * Copies `payload` into the put's write buffers, handing each one to the disk as it fills. The bytes are copied
 * so that the socket's chunks they arrived in are not held while they are written.
 */
export function gather(put: FileWrites, payload: Buffer): number {
  let offset = 0;
  while (offset < payload.length) {
    put.gather ??= writeBuffer(put, payload.length - offset);
    const buffer = put.gather;
    if (buffer === undefined) break;
    const copied = payload.copy(buffer, put.gathered, offset);
    put.gathered += copied;
    offset += copied;
    if (put.gathered === buffer.length) startWrite(put);
  }
  return offset;
}

/**
 * A write buffer for the put: a spare one, or a new one, no larger than what is left of a file of known size
 * (`unplaced` bytes of the payload being gathered, plus those not received yet), paid from what the put holds of
 * the input budget or taken from it now. Undefined when the budget has none: the put's window shrinks to the
 * buffers it has.
 */
function writeBuffer(put: FileWrites, unplaced: number): Buffer | undefined {
  const spare = put.spare.pop();
  if (spare) return spare;
  const left = put.size === undefined ? WRITE_BATCH_BYTES : put.size - put.received + unplaced;
  const size = Math.min(WRITE_BATCH_BYTES, left);
  const need = Math.max(0, size - put.free);
  if (need > 0 && !put.budget.tryTake(need)) return undefined;
  put.reserved += need;
  put.free -= size - need;
  return Buffer.allocUnsafeSlow(size);
}

/** Gives a finished put's buffers back to the input budget (once its writes are done). */
export function releaseBuffers(put: FileWrites): void {
  put.budget.give(put.reserved);
  put.reserved = 0;
  put.free = 0;
  put.spare.length = 0;
}

/**
 * Hands what a file put has gathered to the disk as one write, after the writes already in flight (in order, at
 * the file's position). Not awaited: the caller bounds the bytes in flight (WRITE_WINDOW_BYTES). A full-size
 * buffer goes back to the put's spares once written.
 */
export function startWrite(put: FileWrites): void {
  const buffer = put.gather;
  if (buffer === undefined || put.gathered === 0) return;
  const data = buffer.subarray(0, put.gathered);
  const bytes = put.gathered;
  put.gather = undefined;
  put.gathered = 0;
  put.writingBytes += bytes;
  const previous = put.writes[put.writes.length - 1] ?? Promise.resolve();
  const done = previous
    .then(async () => {
      if (put.writeError !== undefined) return;
      let off = writeSmallPieces(put.handle.fd, data);
      while (off < data.length) off += (await put.handle.write(data, off, data.length - off)).bytesWritten;
      put.written += bytes;
    })
    .catch((err: unknown) => {
      put.writeError ??= err;
    })
    .finally(() => {
      put.writingBytes -= bytes;
      void put.writes.shift(); // this write's own promise, settling now: nothing to wait for
      if (put.reserved === 0) return; // released: the put is over
      if (buffer.length === WRITE_BATCH_BYTES) put.spare.push(buffer);
      else put.free += buffer.length;
    });
  put.writes.push(done);
}

/**
 * Writes the start of `data` at the file's position in WRITE_PIECE_BYTES synchronous writes, for at most
 * SYNC_WRITE_BUDGET_MS; returns how many bytes it wrote (all of them unless the budget ran out). Throws what
 * write(2) throws.
 */
function writeSmallPieces(fd: number, data: Buffer): number {
  const deadline = performance.now() + SYNC_WRITE_BUDGET_MS;
  let off = 0;
  while (off < data.length) {
    off += writeSync(fd, data, off, Math.min(WRITE_PIECE_BYTES, data.length - off));
    if (performance.now() > deadline) break;
  }
  return off;
}

/** The error a put is answered with when one of its writes failed. */
export function writeFailure(err: unknown): StorageError {
  return new StorageError(`could not write the file: ${(err as Error).message}`, { cause: err });
}
