/** Byte counts for people, in binary units: `1023 B`, `1.5 KiB`, `200 MiB`. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export interface FormatBytesOptions {
  /**
   * Decimals shown from 1 KiB up, always (`decimals: 1`: `2.0 KiB`, `64.0 KiB`, the server's lines). Without it:
   * one below 10 and none from 10 (`2.0 KiB`, `64 KiB`, `200 MiB`).
   */
  decimals?: number;
}

/** `1536` -> `1.5 KiB`; below 1 KiB the exact count, `1023 B`. */
export function formatBytes(bytes: number, options: FormatBytesOptions = {}): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value.toFixed(options.decimals ?? (value < 10 ? 1 : 0))} ${UNITS[unit]}`;
}
