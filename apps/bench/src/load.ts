/**
 * A closed-loop load: each worker does one operation at a time, back to back, for a fixed time. Operations that
 * complete inside the measured window (after a warm-up) count for the rate; their latencies give p50 and p99.
 */
import { quantile, Samples } from './stats';

export interface LoadOptions {
  /** One function per concurrent worker; each call is one operation (one message acknowledged). */
  workers: ReadonlyArray<() => Promise<unknown>>;
  /** Time before measuring starts (JIT, connection buffers, the server's first files). */
  warmupMs: number;
  /** Measured time. */
  durationMs: number;
}

export interface LoadResult {
  /** Operations completed inside the measured window. */
  ops: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  seconds: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const now = (): number => Number(process.hrtime.bigint()) / 1e6;
  const start = now();
  const from = start + options.warmupMs;
  const until = from + options.durationMs;
  const samples = new Samples();
  let ops = 0;
  const loop = async (op: () => Promise<unknown>): Promise<void> => {
    for (;;) {
      const t0 = now();
      if (t0 >= until) return;
      await op();
      const t1 = now();
      // The rate counts completions inside the window; latencies, operations wholly inside it.
      if (t1 >= from && t1 <= until) {
        ops += 1;
        if (t0 >= from) samples.push(t1 - t0);
      }
    }
  };
  await Promise.all(options.workers.map(loop));
  const seconds = options.durationMs / 1000;
  const sorted = samples.sorted();
  return { ops, perSecond: ops / seconds, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), seconds };
}
