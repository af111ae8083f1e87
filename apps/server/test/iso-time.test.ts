/** ../src/iso-time.ts: the same text as Date.prototype.toISOString, for any date it takes. */
import { isoTime } from '../src/iso-time';

describe('isoTime', () => {
  it('writes what toISOString writes', () => {
    const times = [
      0,
      1,
      999,
      Date.UTC(2025, 0, 31, 12, 34, 56, 789),
      Date.UTC(2026, 11, 3, 23, 59, 59, 999),
      Date.UTC(2000, 1, 29, 0, 0, 0, 5),
      -1,
      -62_198_755_200_000, // year -1
      253_402_300_800_000, // year 10000
      8.64e15,
      -8.64e15,
    ];
    // and a spread of times across four centuries, every field at both ends now and then
    for (let t = Date.UTC(1850, 0, 1); t < Date.UTC(2250, 0, 1); t += 7_777_777_777) times.push(t);
    for (const t of times) expect([t, isoTime(new Date(t))]).toEqual([t, new Date(t).toISOString()]);
  });

  it('defaults to now', () => {
    const before = Date.now();
    const text = isoTime();
    expect(Date.parse(text)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(text)).toBeLessThanOrEqual(Date.now());
  });

  it('refuses an invalid date with the RangeError toISOString throws', () => {
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => new Date(Number.NaN).toISOString()).toThrow(RangeError);
  });
});
