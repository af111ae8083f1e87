/**
 * A fixed number of slots and a bounded line of callers waiting for one. Passphrase derivations go through one
 * (./scrypt.ts): each holds 128 * N * r bytes and a thread of libuv's pool for up to seconds, so how many run at
 * once bounds the memory, and how many may wait bounds what a burst of hostile files can queue up.
 */
export class SlotQueue {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  /**
   * @param concurrency - calls of `work` running at once (at least 1).
   * @param maxWaiting - callers that may wait for a slot when they ask for a bounded wait (see {@link run}).
   */
  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0)
      throw new RangeError(`maxWaiting must be a non-negative integer, got ${maxWaiting}`);
  }

  /** Calls of `work` under way. */
  get running(): number {
    return this.#running;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `work` once a slot is free, in the order callers arrived. With `refuse`, a caller that would wait behind
   * `maxWaiting` others gets `refuse()` thrown at once and `work` never runs (for work a remote party can cause).
   * Without it the caller waits however long the line (for work the caller chose, such as encrypting its own files).
   */
  async run<T>(work: () => Promise<T>, refuse?: () => Error): Promise<T> {
    if (this.#running < this.concurrency) {
      this.#running++;
    } else {
      if (refuse !== undefined && this.#waiting.length >= this.maxWaiting) throw refuse();
      // The slot is handed over by #release without ever being free, so a caller arriving meanwhile cannot take it.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    try {
      return await work();
    } finally {
      this.#release();
    }
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#running--;
  }
}
