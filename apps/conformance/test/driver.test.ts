/**
 * The command driver of client mode: placeholders filled in shell-quoted, the exit code read as the outcome, and a
 * client that hangs killed (with what its shell started) after the time limit.
 */
import { CommandDriver, fillTemplate } from '../src/client/driver';

const job = { id: 'id-1', format: 'json' as const, file: "/tmp/a b'c.json" };

test('placeholders are filled shell-quoted; unknown ones are left as they are', () => {
  expect(fillTemplate('send {host} {port} {file} {other}', { host: '127.0.0.1', port: 5050, file: "a b'c" })).toBe(
    `send '127.0.0.1' '5050' 'a b'\\''c' {other}`,
  );
});

test('exit 0 is an acknowledged put, anything else a failure with the output kept', async () => {
  const ok = new CommandDriver(
    { dictCommand: 'test {file} = "/tmp/a b\'c.json" && test {port} = 9', fileCommand: 'true' },
    5000,
  );
  expect(await ok.sendDict('127.0.0.1', 9, job)).toMatchObject({ ok: true });
  const refused = new CommandDriver({ dictCommand: 'echo ERR_DICT_INVALID >&2; exit 4', fileCommand: 'true' }, 5000);
  expect(await refused.sendDict('127.0.0.1', 9, job)).toMatchObject({
    ok: false,
    output: expect.stringMatching(/exit 4\nERR_DICT_INVALID/),
  });
});

test('a client that does not finish in time is killed, and its put failed', async () => {
  const started = Date.now();
  const hung = new CommandDriver({ dictCommand: 'sleep 30; sleep 30', fileCommand: 'true' }, 300);
  expect(await hung.sendDict('127.0.0.1', 9, job)).toMatchObject({
    ok: false,
    output: expect.stringMatching(/killed/),
  });
  expect(Date.now() - started).toBeLessThan(5000);
});
