/**
 * The server-wide budget for input held in memory: dictionary bodies being received and file bytes on their way
 * to the disk. Each connection may legally hold up to a dictionary or a write window, so without a shared budget
 * a few hundred connections could hold gigabytes (docs/RELIABILITY.md §6). A put takes what it needs before it
 * buffers anything and gives it back when done; when the budget is spent, the next put waits (its socket paused,
 * costing nothing) until bytes are given back, first come first served.
 */
export class InputBudget {
  readonly total: number;
  #available: number;
  #waiters: { bytes: number; grant: () => void }[] = [];

  constructor(totalBytes: number) {
    if (!Number.isSafeInteger(totalBytes) || totalBytes <= 0)
      throw new RangeError(`the input budget must be a positive integer, got ${totalBytes}`);
    this.total = totalBytes;
    this.#available = totalBytes;
  }

  /** Bytes not taken. */
  get available(): number {
    return this.#available;
  }

  /** Bytes taken and not given back. */
  get used(): number {
    return this.total - this.#available;
  }

  /** Takes `bytes` now if they are free and nobody is waiting before; returns whether it did. */
  tryTake(bytes: number): boolean {
    if (bytes > this.#available || this.#waiters.length > 0) return false;
    this.#available -= bytes;
    return true;
  }

  /**
   * Takes `bytes`, waiting for them in turn. Rejects with the signal's reason when it aborts first. `bytes` must
   * not exceed the total (the server checks its limits against the budget at start).
   */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (bytes > this.total)
      return Promise.reject(new RangeError(`${bytes} bytes can never fit a budget of ${this.total}`));
    if (this.tryTake(bytes)) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter = {
        bytes,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(signal?.reason);
        this.#grant(); // the head of the line may have changed
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Gives back bytes taken earlier, and grants them to those waiting, in order. */
  give(bytes: number): void {
    if (bytes <= 0) return;
    this.#available = Math.min(this.total, this.#available + bytes);
    this.#grant();
  }

  #grant(): void {
    for (
      let first = this.#waiters[0];
      first !== undefined && first.bytes <= this.#available;
      first = this.#waiters[0]
    ) {
      this.#waiters.shift();
      this.#available -= first.bytes;
      first.grant();
    }
  }
}
