import { formatBytes } from '../src/index';

describe('formatBytes', () => {
  test('exact bytes below 1 KiB, then binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
    expect(formatBytes(3 * 1024 ** 4)).toBe('3.0 TiB');
    expect(formatBytes(2048 * 1024 ** 4)).toBe('2048 TiB');
  });

  test('one decimal below 10 and none from 10, in both programs', () => {
    expect(formatBytes(9.94 * 1024)).toBe('9.9 KiB');
    expect(formatBytes(64 * 1024)).toBe('64 KiB');
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MiB');
    expect(formatBytes(1023.7 * 1024 * 1024)).toBe('1024 MiB');
  });
});
