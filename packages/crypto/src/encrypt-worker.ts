/**
 * The worker thread of ./worker-encrypter.ts: reads a file and encrypts it into the age payload (STREAM,
 * ./payload.ts), copying the ciphertext into batch buffers the starting thread lends it, and hands each full
 * batch back by transfer (no copy across threads). It holds only the buffers it was lent: when none is left it
 * waits for the starting thread to give one back, so memory stays bounded by what that thread lends.
 *
 * Messages (both directions are ordered):
 *   in:  `{ type: 'buffer', buffer }`: an empty batch buffer to fill (`null`: allocate a new one)
 *   out: `{ type: 'data', buffer, length }` a filled batch; `{ type: 'end' }` after the last; or
 *        `{ type: 'error', error }` (then nothing more)
 */
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PayloadSealer } from './payload';

/** What ./worker-encrypter.ts starts a worker with (`workerData.job`). */
export interface EncryptJob {
  /**
   * The file, opened by the starting thread, which closes it once this worker has ended: a worker that is
   * terminated runs no `finally`, and a descriptor it had opened would stay open.
   */
  fd: number;
  /** The STREAM key. Secret: the worker zeroes its copy when it ends. */
  payloadKey: Uint8Array;
  /** Plaintext read at a time. */
  readBytes: number;
  /** Size of a new batch buffer. */
  batchBytes: number;
}

export type ToWorker = { type: 'buffer'; buffer: ArrayBuffer | null };

/** An error as plain data: its class name, message and the fields a caller branches on. */
export interface ErrorData {
  name: string;
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

export type FromWorker =
  | { type: 'data'; buffer: ArrayBuffer; length: number }
  | { type: 'end' }
  | { type: 'error'; error: ErrorData };

function toData(err: unknown): ErrorData {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const e = err as NodeJS.ErrnoException;
  return {
    name: e.name,
    message: e.message,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.errno === 'number' ? { errno: e.errno } : {}),
    ...(typeof e.syscall === 'string' ? { syscall: e.syscall } : {}),
    ...(typeof e.path === 'string' ? { path: e.path } : {}),
  };
}

/** Batch buffers lent by the starting thread, and a wait for the next one. */
class Lent {
  readonly #free: ArrayBuffer[] = [];
  #waiting: ((buffer: ArrayBuffer) => void) | undefined;

  constructor(private readonly batchBytes: number) {}

  give(buffer: ArrayBuffer | null): void {
    const b = buffer ?? new ArrayBuffer(this.batchBytes);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting) waiting(b);
    else this.#free.push(b);
  }

  take(): ArrayBuffer | Promise<ArrayBuffer> {
    const b = this.#free.pop();
    if (b) return b;
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }
}

async function run(job: EncryptJob, lent: Lent, post: (message: FromWorker, transfer?: ArrayBuffer[]) => void) {
  const key = Buffer.from(job.payloadKey);
  try {
    const sealer = new PayloadSealer(key);
    const input = Buffer.allocUnsafeSlow(job.readBytes);
    let out: Uint8Array | undefined;
    let filled = 0;
    const emit = async (pieces: Buffer[]): Promise<void> => {
      for (const piece of pieces) {
        let offset = 0;
        while (offset < piece.length) {
          if (!out) {
            const next = lent.take();
            out = new Uint8Array(next instanceof ArrayBuffer ? next : await next);
            filled = 0;
          }
          const n = Math.min(piece.length - offset, out.length - filled);
          piece.copy(out, filled, offset, offset + n);
          filled += n;
          offset += n;
          if (filled === out.length) {
            post({ type: 'data', buffer: out.buffer as ArrayBuffer, length: filled }, [out.buffer as ArrayBuffer]);
            out = undefined;
          }
        }
      }
    };
    let position = 0;
    for (;;) {
      // Synchronous reads: this thread has nothing else to do meanwhile, and a promise per read costs more.
      const n = readSync(job.fd, input, 0, input.length, position);
      if (n === 0) break;
      position += n;
      await emit(sealer.push(input.subarray(0, n)));
    }
    await emit([sealer.finish()]);
    if (out && filled > 0) {
      post({ type: 'data', buffer: out.buffer as ArrayBuffer, length: filled }, [out.buffer as ArrayBuffer]);
    }
    post({ type: 'end' });
  } finally {
    key.fill(0);
    job.payloadKey.fill(0);
  }
}

const port = parentPort;
if (port) {
  const job = (workerData as { job: EncryptJob }).job;
  const lent = new Lent(job.batchBytes);
  port.on('message', (message: ToWorker) => lent.give(message.buffer));
  const post = (message: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer);
  run(job, lent, post).then(
    () => port.close(),
    (err: unknown) => {
      post({ type: 'error', error: toData(err) });
      port.close();
    },
  );
}
