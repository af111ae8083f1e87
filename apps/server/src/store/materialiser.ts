/**
 * Writes the files of items that are already acknowledged: a dictionary's item file and every receipt file, once
 * the journal made them durable (./group-commit.ts, docs/SERVER.md §5). Until its receipt file exists, an item's
 * receipt is answered from memory here (a retry of its id gets it), and `list` finds it in the journal
 * (./journal-index.ts). A journal segment is deleted only after everything it covers was written and flushed
 * (./journal.ts asks `settled()` first), so a crash at any point leaves the journal to restore what is missing.
 *
 * The writes run on the main thread in slices of at most SLICE_MS, between the network's turns, mostly while a
 * batch waits for its fdatasync on the thread pool; creating small files there is cheap system calls into the
 * page cache, and nothing is fsynced here (the checkpoint flushes the file system). Memory is bounded: past
 * MAX_PENDING items or MAX_PENDING_BYTES of dictionary bytes, the group commit waits for it (`full`, `idle`).
 */
import { join } from 'node:path';
import type { Logger } from '../logger';
import { createFile } from './durable';
import { receiptFileName } from './paths';
import { receiptText, type StoredItem } from './receipts';

/** Most items acknowledged and not yet written. */
export const MAX_PENDING = 8192;
/** Most dictionary bytes held for items not yet written. */
export const MAX_PENDING_BYTES = 32 * 1024 * 1024;
/** Longest run of writes before the event loop gets a turn. */
const SLICE_MS = 2;

interface Work {
  item: StoredItem;
  /** The item file to create with `data` (a dictionary); absent when the item is already in place (a file). */
  itemPath?: string;
  data?: Uint8Array;
  /** The item file was written (a later failure of the receipt leaves only the receipt to retry). */
  itemWritten?: boolean;
}

export class Materialiser {
  readonly #queue: Work[] = [];
  #head = 0;
  /** Put id → receipt, until its receipt file exists. */
  readonly #pending = new Map<string, StoredItem>();
  #bytes = 0;
  #scheduled = false;
  /** Writes that failed: tried again before each checkpoint; while any is left, the journal keeps its segments. */
  #failed: Work[] = [];
  #waiters: Array<() => void> = [];

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
    return this.#queue.length - this.#head >= MAX_PENDING || this.#bytes >= MAX_PENDING_BYTES;
  }

  /** Resolves once nothing is left to write (at once when nothing is). */
  idle(): Promise<void> {
    if (this.#head === this.#queue.length) return Promise.resolve();
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
    for (const work of failed) this.#write(work);
    return this.#failed.length === 0;
  }

  #kick(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#run());
  }

  #run(): void {
    this.#scheduled = false;
    const until = performance.now() + SLICE_MS;
    while (this.#head < this.#queue.length) {
      const work = this.#queue[this.#head] as Work;
      this.#queue[this.#head] = undefined as unknown as Work;
      this.#head += 1;
      this.#write(work);
      if ((this.#head & 15) === 0 && performance.now() > until) break;
    }
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    } else {
      if (this.#head > 1024) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#kick();
    }
  }

  /** The item file (for a dictionary), then the receipt file: a receipt never names a file that is not there. */
  #write(work: Work): void {
    const { item } = work;
    try {
      if (work.itemPath !== undefined && !work.itemWritten) {
        createFile(work.itemPath, work.data as Uint8Array);
        work.itemWritten = true;
      }
      createFile(join(this.receiptsDir, receiptFileName(item.id)), receiptText(item));
      this.#pending.delete(item.id);
      if (work.data) this.#bytes -= work.data.length;
    } catch (err) {
      // The receipt stays answered from memory (and its bytes held); the write is tried again before the next
      // checkpoint, and until it succeeds the journal keeps the segment, which the next start replays.
      this.#failed.push(work);
      this.log.error(
        { err, id: item.id, path: item.path },
        'could not write an acknowledged item’s files; its journal segment is kept until they are written, or replayed at the next start',
      );
    }
  }
}
