/**
 * Writes the files of items that are already acknowledged: a dictionary's item file and every receipt file, once
 * the journal made them durable (./group-commit.ts, docs/SERVER.md §5). Until its receipt file exists, an item's
 * receipt is answered from memory here (a retry of its id gets it), and `list` finds it in the journal
 * (./journal-index.ts). A journal segment is deleted only after everything it covers was written and flushed
 * (./journal.ts asks `settled()` first), so a crash at any point leaves the journal to restore what is missing.
 *
 * Where the writes run: under load, in a worker thread of their own (./materialise-worker.ts), handed over in one
 * message per turn of the event loop: creating files is the largest single cost of an acknowledged dictionary
 * (two per item), and the main thread is what every client waits on. A turn that has fewer than HANDOVER_MIN items
 * to write (one client, or files only) writes them on the main thread, in slices of at most SLICE_MS between the
 * network's turns: for a few files, the hop to another thread costs more than it saves. The worker starts with
 * the first turn that hands over (a server that never sees such a load never pays for its memory), and if it
 * stops, the main thread writes everything from then on. Nothing is fsynced here (the checkpoint flushes the file
 * system).
 *
 * Memory is bounded: past MAX_PENDING items or MAX_PENDING_BYTES of dictionary bytes, the group commit waits for
 * it (`full`, `idle`).
 */
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../logger';
import { startModuleWorker } from '../module-worker';
import { type BatchResult, type FileWork, writeWork } from './materialise-worker';
import { receiptFileName } from './paths';
import { receiptText, type StoredItem } from './receipts';

/** Most items acknowledged and not yet written. */
export const MAX_PENDING = 8192;
/** Most dictionary bytes held for items not yet written. */
export const MAX_PENDING_BYTES = 32 * 1024 * 1024;
/** Longest run of writes on the main thread before the event loop gets a turn. */
const SLICE_MS = 2;
/**
 * Fewest items a turn hands to the worker. A/B at 32 json clients (tmpfs, this VM's disk): the main thread's CPU
 * per acknowledgement 73-84 µs against 93-135 µs on tmpfs, 135-186 µs against 214-617 µs on disk.
 */
export const HANDOVER_MIN = 8;

interface Work {
  item: StoredItem;
  /** The item file to create with `data` (a dictionary); absent when the item is already in place (a file). */
  itemPath?: string;
  data?: Uint8Array;
  /** The item file was written (a later failure of the receipt leaves only the receipt to retry). */
  itemWritten?: boolean;
  /** Handed to a worker that stopped before it answered: its files may exist already. */
  retry?: boolean;
}

export class Materialiser {
  /** Works not yet handed over (to the worker or the main thread's slices). */
  #queue: Work[] = [];
  #head = 0;
  /** Put id → receipt, until its receipt file exists. */
  readonly #pending = new Map<string, StoredItem>();
  #bytes = 0;
  #scheduled = false;
  /** Writes that failed: tried again before each checkpoint; while any is left, the journal keeps its segments. */
  #failed: Work[] = [];
  #waiters: Array<() => void> = [];
  #worker: Worker | undefined;
  /** The worker stopped on its own: the main thread writes from then on. */
  #workerLost = false;
  #seq = 0;
  /** Batches handed to the worker, by sequence number, until it answers them. */
  readonly #inWorker = new Map<number, Work[]>();
  /** How many items' files were handed to the worker thread so far. */
  handedOver = 0;

  constructor(
    private readonly receiptsDir: string,
    private readonly log: Logger,
  ) {}

  /** The receipt of an acknowledged item whose receipt file is not written yet. */
  get(id: string): StoredItem | undefined {
    return this.#pending.get(id);
  }

  /** Queues the files of an acknowledged item. */
  add(item: StoredItem, write?: { itemPath: string; data: Uint8Array }): void {
    this.#pending.set(item.id, item);
    this.#queue.push(write ? { item, itemPath: write.itemPath, data: write.data } : { item });
    if (write) this.#bytes += write.data.length;
    this.#kick();
  }

  /** True while the backlog is at its bound. */
  get full(): boolean {
    return this.#pending.size >= MAX_PENDING || this.#bytes >= MAX_PENDING_BYTES;
  }

  /** Resolves once nothing is left to write (at once when nothing is). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Once idle, tries the failed writes again (room may have been freed): true when every file is written (a
   * segment may go), false when some still fails.
   */
  async settled(): Promise<boolean> {
    await this.idle();
    const failed = this.#failed;
    this.#failed = [];
    for (const work of failed) this.#writeHere(work);
    return this.#failed.length === 0;
  }

  /** Once idle, stops the worker (a clean stop of the store). */
  async stop(): Promise<void> {
    await this.idle();
    const worker = this.#worker;
    this.#worker = undefined;
    this.#workerLost = true; // anything after a stop is written here
    await worker?.terminate();
  }

  #isIdle(): boolean {
    return this.#head === this.#queue.length && this.#inWorker.size === 0;
  }

  #startWorker(): Worker {
    const worker = startModuleWorker('store', 'materialise-worker', [], { workerData: { materialiser: true } });
    worker.on('message', (result: BatchResult) => this.#answered(result));
    worker.on('error', (err) => this.#lose(worker, err));
    worker.on('exit', (code) => this.#lose(worker, new Error(`the materialiser's worker exited (${code})`)));
    worker.unref(); // held only while it has work (#handOver, #answered)
    return worker;
  }

  #kick(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#run());
  }

  #run(): void {
    this.#scheduled = false;
    if (this.#queue.length - this.#head >= HANDOVER_MIN && !this.#workerLost) {
      this.#worker ??= this.#startWorker();
      this.#handOver(this.#worker);
    } else this.#writeSlice();
    this.#wakeIfIdle();
  }

  /** Hands every queued work to the worker in one message. */
  #handOver(worker: Worker): void {
    const works = this.#head === 0 ? this.#queue : this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    if (works.length === 0) return;
    this.handedOver += works.length;
    const seq = ++this.#seq;
    this.#inWorker.set(seq, works);
    if (this.#inWorker.size === 1) worker.ref();
    worker.postMessage({ seq, works: works.map((w) => this.#fileWork(w)) });
  }

  #fileWork(work: Work): FileWork {
    return {
      ...(work.itemPath !== undefined && !work.itemWritten ? { itemPath: work.itemPath, data: own(work.data) } : {}),
      receiptPath: join(this.receiptsDir, receiptFileName(work.item.id)),
      receiptText: receiptText(work.item),
      ...(work.retry ? { retry: true } : {}),
    };
  }

  #answered({ seq, failed }: BatchResult): void {
    const works = this.#inWorker.get(seq);
    if (!works) return;
    this.#inWorker.delete(seq);
    if (this.#inWorker.size === 0) this.#worker?.unref();
    let f = 0;
    works.forEach((work, index) => {
      const failure = failed[f];
      if (failure?.index === index) {
        f += 1;
        if (failure.itemWritten) work.itemWritten = true;
        this.#failedWrite(work, Object.assign(new Error(failure.message), { code: failure.code }));
      } else this.#written(work);
    });
    this.#wakeIfIdle();
  }

  /** The worker stopped on its own: what it had not answered is written again here (its files may exist). */
  #lose(worker: Worker, err: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#workerLost = true;
    this.log.error({ err }, 'the worker writing acknowledged items’ files stopped; the main thread writes them');
    const unanswered = [...this.#inWorker.values()].flat();
    this.#inWorker.clear();
    for (const work of unanswered) work.retry = true;
    this.#queue = [...unanswered, ...this.#queue.slice(this.#head)];
    this.#head = 0;
    this.#kick();
  }

  /** Writes on the main thread for at most SLICE_MS, then gives the event loop a turn. */
  #writeSlice(): void {
    const until = performance.now() + SLICE_MS;
    while (this.#head < this.#queue.length) {
      const work = this.#queue[this.#head] as Work;
      this.#queue[this.#head] = undefined as unknown as Work;
      this.#head += 1;
      this.#writeHere(work);
      if ((this.#head & 15) === 0 && performance.now() > until) break;
    }
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else {
      if (this.#head > 1024) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#kick();
    }
  }

  /** The item file (for a dictionary), then the receipt file: a receipt never names a file that is not there. */
  #writeHere(work: Work): void {
    try {
      writeWork(this.#fileWork(work));
      this.#written(work);
    } catch (err) {
      if ((err as { itemWritten?: boolean }).itemWritten) work.itemWritten = true;
      this.#failedWrite(work, err);
    }
  }

  #written(work: Work): void {
    this.#pending.delete(work.item.id);
    if (work.data) this.#bytes -= work.data.length;
  }

  /**
   * The receipt stays answered from memory (and its bytes held); the write is tried again before the next
   * checkpoint, and until it succeeds the journal keeps the segment, which the next start replays.
   */
  #failedWrite(work: Work, err: unknown): void {
    this.#failed.push(work);
    this.log.error(
      { err, id: work.item.id, path: work.item.path },
      'could not write an acknowledged item’s files; its journal segment is kept until they are written, or replayed at the next start',
    );
  }

  #wakeIfIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/**
 * `data`, or a copy of it when it is a view into a larger buffer: a message to a worker copies a view's whole
 * buffer.
 */
function own(data: Uint8Array | undefined): Uint8Array | undefined {
  return data === undefined || data.byteLength === data.buffer.byteLength ? data : data.slice();
}
