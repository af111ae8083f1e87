/**
 * A time as ISO 8601 UTC text, `2026-12-03T21:14:05.123Z`, the same text as `Date.prototype.toISOString`. Node 20's
 * V8 computes the local time zone's offset inside toISOString (and throws it away), which loads ICU's time zone
 * code and data: ~0.8 MiB of the `node` binary's pages that a server otherwise never touches (docs/SERVER.md §12,
 * "Memory"). The UTC getters read no time zone.
 */

/** `date` (default: now) as ISO 8601 UTC; throws a RangeError for an invalid date, as toISOString does. */
export function isoTime(date: Date = new Date()): string {
  const year = date.getUTCFullYear();
  if (Number.isNaN(year)) throw new RangeError('Invalid time value');
  const yyyy =
    year >= 0 && year <= 9999
      ? String(year).padStart(4, '0')
      : `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}`;
  return `${yyyy}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}T${two(date.getUTCHours())}:${two(
    date.getUTCMinutes(),
  )}:${two(date.getUTCSeconds())}.${String(date.getUTCMilliseconds()).padStart(3, '0')}Z`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
