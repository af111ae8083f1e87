/**
 * Repeatable age encryption of a file (./keyed.ts) in a worker thread, beside the thread that sends it.
 *
 * Encrypting on the sending thread made one thread do everything: read, encrypt (a fresh output buffer per 64 KiB
 * chunk, as node:crypto cannot encrypt into a buffer of ours, and the garbage collection that follows), hash and
 * write to the socket, 6.3 CPU-s per GiB (docs/BENCHMARKS.md, "The encrypted file"). Here a worker
 * (./encrypt-worker.ts) reads and encrypts; the ciphertext comes back in batch buffers moved across threads by
 * transfer, which the consumer gives back (`recycle`) once sent, and the worker fills again. The bytes are those
 * of `encryptWithKeys` with the same keys: byte-identical, chunk boundaries aside.
 *
 * Bounded memory: at most `maxBatches` buffers are with the worker or waiting to be read; a consumer that holds
 * buffers longer (or never recycles) makes new ones only as fast as it takes them, one at a time.
 * The worker is ended when the iteration ends, early or not (`return()`, a `break`, a thrown error), and it never
 * keeps the process alive unless the consumer is waiting for it.
 */
import { open } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import type { EncryptJob, ErrorData, FromWorker, ToWorker } from './encrypt-worker';
import { EncryptWorkerError } from './errors';
import type { AgeKeys } from './keyed';
import { startModuleWorker } from './module-worker';

/**
 * 1 MiB: a batch is one data frame of the client's default size (the bytes run on across batches: a batch need not
 * end at a chunk's end).
 */
export const DEFAULT_BATCH_BYTES = 1024 * 1024;
/** Batches with the worker or read ahead; with the one being sent, ~5 MiB of ciphertext at most. */
export const DEFAULT_MAX_BATCHES = 4;
/** Plaintext the worker reads at a time. */
const READ_BYTES = 1024 * 1024;

export interface WorkerEncryptOptions {
  /** Bytes per batch buffer. Default DEFAULT_BATCH_BYTES. */
  batchBytes?: number;
  /** Batch buffers in circulation (with the worker or read ahead). Default DEFAULT_MAX_BATCHES. */
  maxBatches?: number;
}

/** The age encryption of a file, read as chunks, whose buffers the consumer gives back once done with them. */
export interface EncryptedFileChunks extends AsyncIterable<Buffer> {
  /**
   * Gives back a chunk this source yielded once nothing refers to its memory any more (for a socket: once the
   * write's callback has run): it moves to the worker and is filled again. Anything else is ignored.
   */
  recycle(chunk: Uint8Array): void;
}

/**
 * The age file `keys` make of the file at `path`, encrypted in a worker thread: the same bytes as
 * `encryptWithKeys(keys, <the file's bytes>)`. Each iteration reads the file from its start in a worker of its own.
 * A read error is thrown as the worker met it (its `code`, e.g. `ENOENT`); a worker that died is ERR_AGE_WORKER.
 */
export function encryptFileInWorker(
  keys: AgeKeys,
  path: string,
  options: WorkerEncryptOptions = {},
): EncryptedFileChunks {
  const prologue = Buffer.from(keys.prologue);
  const payloadKey = Buffer.from(keys.payloadKey);
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  const maxBatches = Math.max(1, options.maxBatches ?? DEFAULT_MAX_BATCHES);
  const runs = new Set<WorkerRun>();
  return {
    async *[Symbol.asyncIterator]() {
      // Opened here, closed here once the worker has ended (see EncryptJob.fd); an open error is thrown as is.
      const handle = await open(path, 'r');
      let run: WorkerRun;
      try {
        const job: EncryptJob = {
          fd: handle.fd,
          payloadKey: new Uint8Array(payloadKey),
          readBytes: READ_BYTES,
          batchBytes,
        };
        run = new WorkerRun(startModuleWorker('encrypt-worker', { workerData: { job } }), maxBatches);
        job.payloadKey.fill(0);
      } catch (err) {
        await handle.close();
        throw err;
      }
      runs.add(run);
      try {
        yield Buffer.from(prologue);
        for (;;) {
          const chunk = await run.next();
          if (!chunk) return;
          yield chunk;
        }
      } finally {
        runs.delete(run);
        await run.stop();
        await handle.close();
      }
    },
    recycle(chunk) {
      for (const run of runs) if (run.recycle(chunk)) return;
    },
  };
}

/** One worker's encryption of the file, seen from the starting thread. */
class WorkerRun {
  readonly #worker: Worker;
  readonly #maxBatches: number;
  readonly #ready: Array<{ buffer: ArrayBuffer; length: number }> = [];
  /** Buffers of this run the consumer holds. */
  readonly #lent = new Set<ArrayBuffer>();
  /** Buffers the worker holds (given and not yet sent back). */
  #atWorker = 0;
  #ended = false;
  #stopped = false;
  #failed: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(worker: Worker, maxBatches: number) {
    this.#worker = worker;
    this.#maxBatches = maxBatches;
    // Referenced only while the consumer waits for it (./next): a source left unfinished never holds the process.
    worker.unref();
    worker.on('message', (message: FromWorker) => this.#onMessage(message));
    worker.on('error', (err) =>
      this.#fail(new EncryptWorkerError(`encrypting worker failed: ${err.message}`, { cause: err })),
    );
    worker.on('exit', (code) => {
      if (!this.#ended && !this.#stopped) this.#fail(new EncryptWorkerError(`encrypting worker exited (${code})`));
    });
    for (let i = 0; i < maxBatches; i++) this.#give(null);
  }

  /** The next batch of ciphertext, or undefined after the last. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      const batch = this.#ready.shift();
      if (batch) {
        this.#lent.add(batch.buffer);
        return Buffer.from(batch.buffer, 0, batch.length);
      }
      if (this.#failed) throw this.#failed;
      if (this.#ended) return undefined;
      // Every buffer is with the consumer: one more, or the worker would wait forever.
      if (this.#atWorker === 0) this.#give(null);
      this.#worker.ref();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#worker.unref();
    }
  }

  /** Takes back a buffer of this run (true), for the worker to fill again while fewer than the limit circulate. */
  recycle(chunk: Uint8Array): boolean {
    const buffer = chunk.buffer as ArrayBuffer;
    if (!this.#lent.delete(buffer)) return false;
    if (!this.#ended && !this.#stopped && this.#atWorker + this.#ready.length < this.#maxBatches) this.#give(buffer);
    return true;
  }

  /** Ends the worker (at once if it is still encrypting). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#ready.length = 0;
    this.#lent.clear();
    await this.#worker.terminate();
  }

  #give(buffer: ArrayBuffer | null): void {
    this.#atWorker++;
    const message: ToWorker = { type: 'buffer', buffer };
    this.#worker.postMessage(message, buffer ? [buffer] : []);
  }

  #onMessage(message: FromWorker): void {
    if (message.type === 'data') {
      this.#atWorker--;
      this.#ready.push({ buffer: message.buffer, length: message.length });
    } else if (message.type === 'end') {
      this.#ended = true;
    } else {
      this.#failed = revive(message.error);
    }
    this.#wakeUp();
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** The worker's error on this thread: a system error (a read) with its code and fields, anything else as ERR_AGE_WORKER. */
function revive(data: ErrorData): Error {
  if (data.code === undefined || data.syscall === undefined) {
    return new EncryptWorkerError(`encrypting worker failed: ${data.name}: ${data.message}`);
  }
  const err = new Error(data.message) as NodeJS.ErrnoException;
  err.code = data.code;
  if (data.errno !== undefined) err.errno = data.errno;
  err.syscall = data.syscall;
  if (data.path !== undefined) err.path = data.path;
  return err;
}
