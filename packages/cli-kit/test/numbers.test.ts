import { parseCount, parsePort, UsageError } from '../src/index';

/** The message of the UsageError `fn` throws. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ code: 'ERR_USAGE', name: 'UsageError' });
    return (err as Error).message;
  }
  throw new Error('expected a UsageError, but nothing was thrown');
}

describe('parsePort', () => {
  test('1 to 65535, digits only; 0 only with allowZero', () => {
    expect(parsePort('5050')).toBe(5050);
    expect(parsePort('1')).toBe(1);
    expect(parsePort('65535')).toBe(65535);
    for (const bad of ['0', '65536', '-1', 'http', '50.5', '', ' 80', '80 ', '1e3', '0x50'])
      expect(() => parsePort(bad)).toThrow(UsageError);
    expect(parsePort('0', 'port', { allowZero: true })).toBe(0);
    expect(parsePort(0, 'port', { allowZero: true })).toBe(0);
    expect(parsePort(8080, 'port', { allowZero: true })).toBe(8080);
  });

  test('must-be wording: one message naming where the value came from, the value cut to 40 characters', () => {
    expect(refusal(() => parsePort('http'))).toBe('--port must be a port number from 1 to 65535, found "http"');
    expect(refusal(() => parsePort('70000', 'PROJ_PORT'))).toBe(
      'PROJ_PORT must be a port number from 1 to 65535, found "70000"',
    );
    expect(refusal(() => parsePort('9'.repeat(50), 'The port'))).toBe(
      `The port must be a port number from 1 to 65535, found "${'9'.repeat(40)}…"`,
    );
  });

  test('the server listening: 0 allowed, numbers from a config file worded the same way', () => {
    const server = { allowZero: true } as const;
    expect(refusal(() => parsePort('seventy', '--port', server))).toBe(
      '--port must be a port number from 0 to 65535, found "seventy"',
    );
    expect(refusal(() => parsePort(70000, 'port in config.json', server))).toBe(
      'port in config.json must be a port number from 0 to 65535, found "70000"',
    );
    expect(refusal(() => parsePort(-1, 'port', server))).toBe('port must be a port number from 0 to 65535, found "-1"');
    expect(refusal(() => parsePort(80.5, 'port', server))).toBe(
      'port must be a port number from 0 to 65535, found "80.5"',
    );
  });
});

describe('parseCount', () => {
  test('0 to max, digits only', () => {
    expect(parseCount('0', '--retries', { max: 100 })).toBe(0);
    expect(parseCount('100', '--retries', { max: 100 })).toBe(100);
    expect(parseCount('123456789012', 'n')).toBe(123456789012);
    expect(parseCount(7, 'n')).toBe(7);
    for (const bad of ['101', '-1', 'many', '', ' 5', '5.0', '1e2'])
      expect(() => parseCount(bad, '--retries', { max: 100 })).toThrow(UsageError);
  });

  test('must-be wording', () => {
    expect(refusal(() => parseCount('many', '--retries', { max: 100 }))).toBe(
      '--retries must be a whole number from 0 to 100, found "many"',
    );
    expect(refusal(() => parseCount('86401', '--timeout', { max: 86_400 }))).toBe(
      '--timeout must be a whole number from 0 to 86400, found "86401"',
    );
  });

  test('no upper bound but a safe integer', () => {
    expect(refusal(() => parseCount('many', 'maxConnections'))).toBe(
      'maxConnections must be a whole number from 0 up, found "many"',
    );
    expect(refusal(() => parseCount('1'.repeat(22), '--dict-workers'))).toBe(
      `--dict-workers must be a whole number from 0 up, found "${'1'.repeat(22)}"`,
    );
    expect(refusal(() => parseCount(2 ** 53, 'n'))).toBe(`n must be a whole number from 0 up, found "${2 ** 53}"`);
  });
});

test('UsageError keeps its cause', () => {
  const cause = new Error('root');
  const err = new UsageError('bad', { cause });
  expect(err).toBeInstanceOf(Error);
  expect(err.cause).toBe(cause);
  expect(err.code).toBe('ERR_USAGE');
});
