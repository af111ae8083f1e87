/**
 * Byte counts for people, in binary units, the same in both programs and the bench: the exact count below 1 KiB
 * (`1023 B`), then one decimal below 10 and none from 10 (`1.5 KiB`, `64 KiB`, `200 MiB`): three significant
 * figures at most, which is what a glance needs.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1536` -> `1.5 KiB`; below 1 KiB the exact count, `1023 B`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}
