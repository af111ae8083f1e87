/** The small pure parts: options, retry policy, exit codes, receipt and progress formatting. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes, parsePort, UsageError } from '@proj/cli-kit';
import {
  ConnectError,
  ConnectionClosedError,
  DictTooDeepError,
  ReceiptMismatchError,
  RemoteError,
  TimeoutError,
  type Receipt,
} from '@proj/protocol';
import { makeTempDir } from '@proj/test-utils';
import { ExitCode, exitCodeFor, InterruptedError } from '../src/errors';
import { parseDictData, parseFormat, parseId, resolveRetry, resolveTarget } from '../src/options';
import { formatDuration, formatProgress } from '../src/progress';
import { receiptBlock, receiptJson, receiptLine } from '../src/receipt-format';
import { backoffDelay, DEFAULT_RETRY, isRetryable } from '../src/link';

describe('options', () => {
  it('reads ports 1-65535 only', () => {
    expect(parsePort('5050')).toBe(5050);
    for (const bad of ['0', '65536', '-1', 'http', '50.5', '', ' 80']) expect(() => parsePort(bad)).toThrow(UsageError);
  });

  it('reads formats, binary being protobuf', () => {
    expect(parseFormat('binary')).toBe('protobuf');
    expect(parseFormat('protobuf')).toBe('protobuf');
    expect(parseFormat('xml')).toBe('xml');
    expect(() => parseFormat('JSON')).toThrow(UsageError);
    expect(() => parseFormat('yaml')).toThrow(/json, xml or binary/);
  });

  it('reads put ids by the protocol grammar', () => {
    expect(parseId('job-1.2:3')).toBe('job-1.2:3');
    for (const bad of ['', '-x', 'a b', 'x'.repeat(129), 'é']) expect(() => parseId(bad)).toThrow(UsageError);
  });

  it('reads --data as a JSON object and nothing else', () => {
    expect(parseDictData('{"a":[1,{"b":null}]}', '--data')).toEqual({ a: [1, { b: null }] });
    for (const bad of ['[1]', '1', 'null', '{', "{'a':1}", ''])
      expect(() => parseDictData(bad, '--data')).toThrow(UsageError);
  });

  it('takes host and port from flags, then PROJ_HOST/PROJ_PORT, then defaults', async () => {
    expect(await resolveTarget({}, {})).toEqual({ host: '127.0.0.1', port: 5050 });
    expect(await resolveTarget({}, { PROJ_HOST: 'h', PROJ_PORT: '7000' })).toEqual({ host: 'h', port: 7000 });
    expect(await resolveTarget({ host: 'x', port: '1' }, { PROJ_HOST: 'h', PROJ_PORT: '7000' })).toEqual({
      host: 'x',
      port: 1,
    });
    await expect(resolveTarget({}, { PROJ_PORT: 'nope' })).rejects.toThrow(/PROJ_PORT/);
  });

  it('reads the token from a file, never from argv, and refuses an empty or missing one', async () => {
    const tmp = await makeTempDir();
    try {
      await writeFile(join(tmp.path, 'token'), 's3cret\n');
      await writeFile(join(tmp.path, 'empty'), '\n');
      expect((await resolveTarget({ tokenFile: join(tmp.path, 'token') }, {})).token).toBe('s3cret');
      await expect(resolveTarget({ tokenFile: join(tmp.path, 'empty') }, {})).rejects.toThrow(UsageError);
      await expect(resolveTarget({ tokenFile: join(tmp.path, 'none') }, {})).rejects.toThrow(/no such file/);
    } finally {
      await tmp.remove();
    }
  });

  it('reads --retries', () => {
    expect(resolveRetry({}, {}).retries).toBe(5);
    expect(resolveRetry({ retries: '0' }, {}).retries).toBe(0);
    expect(() => resolveRetry({ retries: 'many' }, {})).toThrow(UsageError);
  });
});

describe('retry policy', () => {
  it('doubles the pause, with jitter in the upper half, up to the cap', () => {
    const p = { retries: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, p, () => 0)).toBe(50);
    expect(backoffDelay(1, p, () => 1)).toBe(100);
    expect(backoffDelay(3, p, () => 1)).toBe(400);
    expect(backoffDelay(10, p, () => 1)).toBe(1000);
    expect(backoffDelay(10, p, () => 0)).toBe(500);
  });

  it('retries connection failures, never refusals', () => {
    expect(isRetryable(new ConnectionClosedError())).toBe(true);
    expect(isRetryable(new ConnectError('x'))).toBe(true);
    expect(isRetryable(new TimeoutError('response', 1))).toBe(true);
    expect(isRetryable(new RemoteError('ERR_TIMEOUT', 'idle', undefined, true))).toBe(false);
    expect(isRetryable(new RemoteError('ERR_STORAGE', 'disk full'))).toBe(false);
    expect(isRetryable(new ReceiptMismatchError('x'))).toBe(false);
    expect(isRetryable(new Error('x'))).toBe(false);
    // The library's drain() can reject with the raw socket error.
    expect(isRetryable(Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('open'), { code: 'EACCES' }))).toBe(false);
    expect(DEFAULT_RETRY.retries).toBe(5);
  });
});

describe('exit codes', () => {
  it('maps each kind of failure to its code', () => {
    expect(exitCodeFor(new UsageError('x'))).toBe(ExitCode.Usage);
    expect(exitCodeFor(new ConnectError('x'))).toBe(ExitCode.Connection);
    expect(exitCodeFor(new ConnectionClosedError())).toBe(ExitCode.Connection);
    expect(exitCodeFor(new TimeoutError('response', 5))).toBe(ExitCode.Connection);
    expect(exitCodeFor(new RemoteError('ERR_AUTH', 'no', undefined, true))).toBe(ExitCode.Refused);
    expect(exitCodeFor(new RemoteError('ERR_TIMEOUT', 'idle', undefined, true))).toBe(ExitCode.Refused);
    expect(exitCodeFor(new ReceiptMismatchError('x'))).toBe(ExitCode.ReceiptMismatch);
    expect(exitCodeFor(new DictTooDeepError(32))).toBe(ExitCode.Usage);
    expect(exitCodeFor(new InterruptedError())).toBe(ExitCode.Interrupted);
    expect(exitCodeFor(new Error('x'))).toBe(ExitCode.Failure);
    expect(exitCodeFor('weird')).toBe(ExitCode.Failure);
    expect(new Set(Object.values(ExitCode)).size).toBe(Object.keys(ExitCode).length);
  });
});

describe('receipt formatting', () => {
  const receipt: Receipt = {
    type: 'receipt',
    id: 'r1',
    kind: 'file',
    path: 'files/2025/notes.txt.age',
    bytes: 2048,
    sha256: 'a'.repeat(64),
    encrypted: true,
    receivedAt: '2025-01-02T03:04:05.000Z',
    duplicate: false,
  };

  it('prints one JSON line with the documented fields', () => {
    const json = receiptJson(receipt, { source: 'notes.txt', encryptedWith: 'recipient', plainBytes: 1000 });
    expect(json).toEqual({
      ok: true,
      id: 'r1',
      kind: 'file',
      path: 'files/2025/notes.txt.age',
      bytes: 2048,
      sha256: 'a'.repeat(64),
      encrypted: true,
      duplicate: false,
      receivedAt: '2025-01-02T03:04:05.000Z',
      verified: true,
      source: 'notes.txt',
      plainBytes: 1000,
    });
    expect(JSON.stringify(json)).not.toContain('\n');
  });

  it('prints a readable line and block with path, size, checksum and the match', () => {
    const line = receiptLine(receipt, { source: 'notes.txt' });
    expect(line).toContain('files/2025/notes.txt.age');
    expect(line).toContain('2.0 KiB');
    expect(line).toContain('a'.repeat(64));
    expect(line).toContain('checksum matches');
    const block = receiptBlock({ ...receipt, kind: 'dict', format: 'protobuf', duplicate: true }, { source: 'dict' });
    expect(block).toMatch(/stored at\s+files\/2025/);
    expect(block).toMatch(/format\s+binary/);
    expect(block).toMatch(/size and checksum match/);
    expect(block).toMatch(/already held this id/);
  });

  it('formats sizes and durations', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MiB');
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3725)).toBe('1:02:05');
  });

  it('draws a progress line with percentage, speed and time left', () => {
    const line = formatProgress(
      { label: 'big.bin', sent: 50 * 1024 * 1024, total: 100 * 1024 * 1024, elapsedMs: 5000 },
      100,
    );
    expect(line).toMatch(/^big\.bin \[#+-+\] {2}50% {2}50 MiB \/ 100 MiB {2}10 MiB\/s {2}0:05 left$/);
    expect(line.length).toBeLessThanOrEqual(100);
    expect(formatProgress({ label: 'x', sent: 0, total: 10, elapsedMs: 0 })).toContain('--:-- left');
  });
});
