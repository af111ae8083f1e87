/**
 * Checks dictionary bodies (./dict-check.ts) off the main thread. A dense 1 MiB dictionary takes 100-300 ms of CPU
 * to decode: on the event loop that is every other client waiting (issue 11, fault 10). Large bodies go to a small
 * fixed pool of worker threads; small ones are checked on the calling thread, where that costs less than posting
 * them to a worker.
 *
 * The answer is the same either way: the same texts, or a ProtocolError of the same class, code and message.
 * A worker that dies (a crash, its heap limit) fails its job with ERR_INTERNAL and is replaced by the next job
 * that needs it; no job waits forever. Idle workers do not keep the process alive, and `close` ends them.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { DEFAULT_LIMITS, InternalError, reviveProtocolError, ShuttingDownError } from '@proj/protocol';
import type { DictFormat, DictLimits } from '@proj/protocol/dict';
import { checkDict, type DictViews, type DictViewsWanted } from './dict-check';
import type { DecodeAnswer, DecodeJob } from './dict-decoder-worker';
import { startModuleWorker } from '../module-worker';

/**
 * Bodies below this size are checked on the calling thread. Measured (2-core VM, Node 20): posting a job and
 * taking its answer costs the main thread 0.05-0.1 ms whatever the size, checking inline 0.05-0.09 ms at 200 B,
 * 0.2 ms at 1 KiB, 0.3-0.5 ms at 4 KiB and 1.1-2.9 ms at 16 KiB (typical records - the densest bodies). Below
 * 4 KiB the worst pause one dictionary can cause is half a millisecond, small puts (most of them) keep the
 * shortest round trip and never wait behind a heavy one in the workers' queue, and anything larger costs the
 * main thread less in a worker.
 */
export const DEFAULT_INLINE_BELOW_BYTES = 4 * 1024;

/**
 * Heap of each worker, in MiB, per MiB of the largest dictionary: the densest 1 MiB dictionary measured (349,000
 * empty objects in JSON, decoded and rendered) needs 48-64 MiB; this is twice that. A worker over it is ended by
 * V8 and its job fails with ERR_INTERNAL, so a limit too low would refuse valid dictionaries.
 */
export const WORKER_HEAP_MIB_PER_DICT_MIB = 128;

/**
 * A worker idle this long ends, giving back its memory (about 18 MiB once started, and up to its heap limit after
 * a dense dictionary until V8 collects); the next large body starts another: 150-200 ms before it answers, of
 * which 1.5-3 ms on the event loop.
 */
export const DEFAULT_WORKER_IDLE_MS = 30_000;

/** The worker heap for a server whose largest dictionary is `maxDictBytes`. */
export function workerHeapMiBFor(maxDictBytes: number): number {
  return Math.max(
    WORKER_HEAP_MIB_PER_DICT_MIB,
    Math.ceil((WORKER_HEAP_MIB_PER_DICT_MIB * maxDictBytes) / (1024 * 1024)),
  );
}

/**
 * One worker per core, at most two. Measured on two cores with four clients sending dense 1 MiB dictionaries
 * (test/reliability/heavy-dicts.test.ts): two workers decode 60% more of them than one, and another client's
 * pings fare no worse (p99 19-21 ms with two, 16-36 ms with one; 340-470 ms on the event loop): the event loop
 * sleeps between its short tasks, so the kernel runs it ahead of the busy workers whenever it wakes.
 */
export function defaultPoolSize(cores = availableParallelism()): number {
  return Math.max(1, Math.min(2, cores));
}

export interface DictDecoderPoolOptions {
  /** Worker threads; 0 checks every body on the calling thread. Default `defaultPoolSize()`. */
  size?: number;
  /** Bodies shorter than this are checked on the calling thread. Default DEFAULT_INLINE_BELOW_BYTES. */
  inlineBelowBytes?: number;
  /**
   * Jobs waiting for a worker. Each session has at most one dictionary in hand, so the server sets this to the
   * number of sessions it admits and it is never reached; past it a job fails with ERR_INTERNAL. Default 1024.
   */
  maxQueued?: number;
  /** Old-generation heap limit of each worker, in MiB. Default `workerHeapMiBFor` the protocol's 1 MiB. */
  workerHeapMiB?: number;
  /** How long (ms) a worker may stay idle before it ends. Default DEFAULT_WORKER_IDLE_MS. */
  idleMs?: number;
}

export interface DecodeOptions {
  format: DictFormat;
  limits: DictLimits;
  wanted: DictViewsWanted;
  /** Withdraws a job: a waiting one is dropped, a running one's answer ignored; rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface Job {
  id: number;
  bytes: Uint8Array;
  options: DecodeOptions;
  resolve(views: DictViews): void;
  reject(err: unknown): void;
  settled: boolean;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  /** What the worker threw before it exited, if anything. */
  error?: unknown;
  /** Ends the worker once it has been idle for `idleMs`. */
  idleTimer?: NodeJS.Timeout;
}

export class DictDecoderPool {
  readonly size: number;
  readonly inlineBelowBytes: number;
  readonly maxQueued: number;
  readonly workerHeapMiB: number;
  readonly idleMs: number;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #started = 0;

  constructor(options: DictDecoderPoolOptions = {}) {
    this.size = options.size ?? defaultPoolSize();
    this.inlineBelowBytes = options.inlineBelowBytes ?? DEFAULT_INLINE_BELOW_BYTES;
    this.maxQueued = options.maxQueued ?? 1024;
    this.workerHeapMiB = options.workerHeapMiB ?? workerHeapMiBFor(DEFAULT_LIMITS.maxDictBytes);
    this.idleMs = options.idleMs ?? DEFAULT_WORKER_IDLE_MS;
    const checked = {
      size: this.size,
      inlineBelowBytes: this.inlineBelowBytes,
      maxQueued: this.maxQueued,
      workerHeapMiB: this.workerHeapMiB,
      idleMs: this.idleMs,
    };
    for (const [name, v] of Object.entries(checked)) {
      if (!Number.isSafeInteger(v) || v < 0)
        throw new RangeError(`dictionary decoder pool: ${name} must be a non-negative integer, got ${v}`);
    }
  }

  /** Workers running now. */
  get workers(): number {
    return this.#slots.length;
  }

  /** Workers started since the pool was made, replacements included. */
  get workersStarted(): number {
    return this.#started;
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Decodes and validates `bytes` as a dictionary in `format` and renders the texts asked for. The caller's bytes
   * are not changed or kept: a worker gets a copy.
   *
   * @throws (rejects with) what the decoder throws, rebuilt as the same class with the same code and message;
   *   InternalError (ERR_INTERNAL) when a worker dies during the job or the queue is full; ShuttingDownError
   *   (ERR_SHUTTING_DOWN) once the pool is closed; the signal's reason when it aborts first.
   */
  decode(bytes: Uint8Array, options: DecodeOptions): Promise<DictViews> {
    if (this.#closed) return Promise.reject(new ShuttingDownError());
    if (this.size === 0 || bytes.length < this.inlineBelowBytes) {
      try {
        return Promise.resolve(checkDict(bytes, options.format, options.limits, options.wanted));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#queue.length >= this.maxQueued) {
      return Promise.reject(internal(`the dictionary decoder queue is full (${this.maxQueued} jobs)`));
    }
    return new Promise<DictViews>((resolve, reject) => {
      const job: Job = { id: this.#nextId++, bytes, options, resolve, reject, settled: false };
      if (signal) {
        job.onAbort = () => {
          this.#queue = this.#queue.filter((j) => j !== job);
          settle(job, () => reject(signal.reason));
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  /** Fails the jobs not answered yet with ERR_SHUTTING_DOWN and ends the workers. Later calls fail the same way. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) settle(job, () => job.reject(new ShuttingDownError()));
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      let slot = this.#slots.find((s) => s.job === undefined);
      if (slot === undefined) {
        if (this.#slots.length >= this.size) return;
        slot = this.#start();
      }
      this.#run(slot, this.#queue.shift() as Job);
    }
  }

  #run(slot: Slot, job: Job): void {
    clearTimeout(slot.idleTimer);
    slot.job = job;
    // A copy of its own for the worker, transferred rather than cloned: the caller keeps its bytes (the session
    // stores them), and a copy made here, not when queued, bounds the copies to one per worker.
    const bytes = new Uint8Array(job.bytes.length);
    bytes.set(job.bytes);
    const { format, limits, wanted } = job.options;
    const message: DecodeJob = { id: job.id, bytes, format, limits: { ...limits }, wanted: { ...wanted } };
    slot.worker.ref(); // a job under way keeps the process alive, as the same work on the main thread would
    slot.worker.postMessage(message, [bytes.buffer]);
  }

  #start(): Slot {
    const worker = startModuleWorker('dict-check', 'dict-decoder-worker', ['@proj/protocol', '@proj/protocol/dict'], {
      resourceLimits: { maxOldGenerationSizeMb: this.workerHeapMiB },
    });
    this.#started += 1;
    const slot: Slot = { worker, job: undefined };
    worker.on('message', (answer: DecodeAnswer) => this.#onAnswer(slot, answer));
    // The answer could not be read on this side: fail the job rather than wait for an answer that will not come.
    worker.on('messageerror', (err) =>
      this.#finish(slot, (job) => job.reject(internal('a dictionary decoder answer could not be read', err))),
    );
    worker.on('error', (err) => (slot.error = err)); // 'exit' follows
    worker.on('exit', (code) => this.#onExit(slot, code));
    this.#slots.push(slot);
    return slot;
  }

  #onAnswer(slot: Slot, answer: DecodeAnswer): void {
    if (slot.job?.id !== answer.id) return;
    this.#finish(slot, (job) => {
      if ('views' in answer) {
        job.resolve(answer.views);
      } else if ('refused' in answer) {
        job.reject(reviveProtocolError(answer.refused));
      } else {
        // A failure nobody foresaw, as the same failure on the main thread would be: a plain Error, which the
        // session logs and answers with ERR_INTERNAL.
        const err = new Error(answer.failed.message);
        if (answer.failed.stack !== undefined) err.stack = answer.failed.stack;
        job.reject(err);
      }
    });
  }

  /** Ends the slot's job (unless withdrawn already) and gives the worker the next one, or lets it idle. */
  #finish(slot: Slot, how: (job: Job) => void): void {
    const job = slot.job;
    slot.job = undefined;
    if (job) settle(job, () => how(job));
    if (this.#queue.length > 0) this.#dispatch();
    if (slot.job === undefined) this.#idle(slot);
  }

  /** An idle worker keeps nothing alive, and ends after `idleMs`. */
  #idle(slot: Slot): void {
    slot.worker.unref();
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      // Out of the pool first: a job must not be handed to a worker that is ending.
      this.#slots = this.#slots.filter((s) => s !== slot);
      void slot.worker.terminate();
    }, this.idleMs);
    slot.idleTimer.unref();
  }

  #onExit(slot: Slot, code: number): void {
    clearTimeout(slot.idleTimer);
    this.#slots = this.#slots.filter((s) => s !== slot);
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      settle(job, () =>
        job.reject(
          this.#closed
            ? new ShuttingDownError()
            : internal(`the dictionary decoder worker exited (code ${code}) during a job`, slot.error),
        ),
      );
    }
    this.#dispatch(); // starts a replacement if jobs are waiting
  }
}

/** Settles a job once: a withdrawn job is not settled again by its worker's answer. */
function settle(job: Job, how: () => void): void {
  if (job.settled) return;
  job.settled = true;
  if (job.onAbort) job.options.signal?.removeEventListener('abort', job.onAbort);
  how();
}

/** ERR_INTERNAL with the message a client gets for any unforeseen failure; the reason goes to the log as the cause. */
function internal(reason: string, cause?: unknown): InternalError {
  return new InternalError('internal error (details in the server log)', {
    cause: cause === undefined ? new Error(reason) : new Error(reason, { cause }),
  });
}
