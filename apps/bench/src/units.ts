/** Number formatting for the table: every figure carries its unit (sizes: @proj/cli-kit's formatBytes). */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Bytes per second as `0.95 GiB/s` or `420 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= GiB) return `${(bytesPerSecond / GiB).toFixed(2)} GiB/s`;
  return `${(bytesPerSecond / MiB).toFixed(0)} MiB/s`;
}

/** Operations per second as `12,345/s`. */
export function formatPerSecond(n: number): string {
  return `${Math.round(n).toLocaleString('en-US')}/s`;
}

/** Milliseconds with three significant figures: `0.412 ms`, `12.3 ms`. */
export function formatMs(ms: number): string {
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(3)} ms`;
}

/** Seconds as `1.23 s`. */
export function formatSeconds(s: number): string {
  return `${s.toFixed(2)} s`;
}
