/** Small statistics helpers for the load runs. */

/**
 * The `q` quantile (0..1) of `sorted` (ascending), nearest-rank: the smallest value with at least `q` of the
 * samples at or below it. NaN for no samples.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Grows by doubling; holds latencies in milliseconds without boxing each one. */
export class Samples {
  #data = new Float64Array(1024);
  #length = 0;

  push(value: number): void {
    if (this.#length === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#length++] = value;
  }

  get length(): number {
    return this.#length;
  }

  /** A sorted copy of the samples. */
  sorted(): Float64Array {
    return this.#data.slice(0, this.#length).sort();
  }
}

/** Runs `fn` `runs` times and keeps the best (least disturbed) result by `score`, higher being better. */
export async function bestOf<T>(runs: number, fn: (run: number) => Promise<T>, score: (r: T) => number): Promise<T> {
  let best: T | undefined;
  for (let i = 0; i < runs; i++) {
    const r = await fn(i);
    if (best === undefined || score(r) > score(best)) best = r;
  }
  if (best === undefined) throw new RangeError('bestOf needs at least one run');
  return best;
}
