/**
 * Writes the files of items that are already acknowledged: a dictionary's item file and every receipt file, once
 * the journal made them durable (./group-commit.ts, docs/SERVER.md §5). Until its receipt file exists, an item's
 * receipt is answered from memory here (a retry of its id gets it), and `list` finds it in the journal
 * (./journal-index.ts). A journal segment is deleted only after everything it covers was written and flushed
 * (./journal.ts asks `settled()` first), so a crash at any point leaves the journal to restore what is missing.
 *
 * The files are created on the thread pool, up to IN_FLIGHT items at a time, each item's file before its receipt:
 * a creation costs the event loop a few microseconds to hand over instead of the system calls themselves (one
 * creation waiting for the file system's journal took 190 µs on average in a profile under load, and held every
 * connection while it did). Nothing is fsynced here (the checkpoint flushes the file system). Memory is bounded:
 * past MAX_PENDING items or MAX_PENDING_BYTES of dictionary bytes, the group commit waits for it (`full`, `idle`).
 */
import { join } from 'node:path';
import type { Logger } from '../logger';
import { createFileAsync } from './durable';
import { receiptFileName } from './paths';
import { receiptText, type StoredItem } from './receipts';

/** Most items acknowledged and not yet written. */
export const MAX_PENDING = 8192;
/** Most dictionary bytes held for items not yet written. */
export const MAX_PENDING_BYTES = 32 * 1024 * 1024;
/** Items whose files are being created at once (the thread pool has THREADPOOL_SIZE threads: ../threadpool.ts). */
const IN_FLIGHT = 16;

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
  /** Items whose files are being created. */
  #inFlight = 0;
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
    // After this turn of the event loop, in which the acknowledgements of the batch are sent.
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#kick();
      });
    }
  }

  /** True while the backlog is at its bound. */
  get full(): boolean {
    return this.#queue.length - this.#head + this.#inFlight >= MAX_PENDING || this.#bytes >= MAX_PENDING_BYTES;
  }

  /** Resolves once nothing is left to write (at once when nothing is). */
  idle(): Promise<void> {
    if (this.#head === this.#queue.length && this.#inFlight === 0 && !this.#scheduled) return Promise.resolve();
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
    for (const work of failed) await this.#write(work);
    return this.#failed.length === 0;
  }

  /** Starts creating the files of queued items, as far as IN_FLIGHT allows. */
  #kick(): void {
    while (this.#inFlight < IN_FLIGHT && this.#head < this.#queue.length) {
      const work = this.#queue[this.#head] as Work;
      this.#queue[this.#head] = undefined as unknown as Work;
      this.#head += 1;
      this.#inFlight += 1;
      void this.#write(work).then(() => {
        this.#inFlight -= 1;
        this.#kick();
      });
    }
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
      if (this.#inFlight === 0) {
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const w of waiters) w();
      }
    } else if (this.#head > 1024) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** The item file (for a dictionary), then the receipt file: a receipt never names a file that is not there. */
  async #write(work: Work): Promise<void> {
    const { item } = work;
    try {
      if (work.itemPath !== undefined && !work.itemWritten) {
        await createFileAsync(work.itemPath, work.data as Uint8Array);
        work.itemWritten = true;
      }
      await createFileAsync(join(this.receiptsDir, receiptFileName(item.id)), receiptText(item));
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
