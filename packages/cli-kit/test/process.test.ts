import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import {
  colorEnabled,
  errorJson,
  errorLine,
  exitWhenFlushed,
  invocationDir,
  onStopSignals,
  programArgs,
  resolvePath,
  SAME_SIGNAL_MS,
  signalExitCode,
  type OutStream,
} from '../src/index';

describe('invocationDir', () => {
  const packageDir = '/repo/apps/client';
  test('INIT_CWD only when the program runs as a script of its own package', () => {
    const own = { INIT_CWD: '/home/ada', npm_package_json: join(packageDir, 'package.json') };
    expect(invocationDir({ env: own, cwd: packageDir, packageDir })).toBe('/home/ada');
    const other = { INIT_CWD: '/home/ada', npm_package_json: '/elsewhere/package.json' };
    expect(invocationDir({ env: other, cwd: '/work', packageDir })).toBe('/work');
    expect(invocationDir({ env: { INIT_CWD: '/home/ada' }, cwd: '/work', packageDir })).toBe('/work');
    expect(invocationDir({ env: { ...own, INIT_CWD: '' }, cwd: '/work', packageDir })).toBe('/work');
  });

  test('resolvePath keeps - (standard input) as it is', () => {
    expect(resolvePath('/home/ada', 'notes.txt')).toBe('/home/ada/notes.txt');
    expect(resolvePath('/home/ada', '/abs')).toBe('/abs');
    expect(resolvePath('/home/ada', '-')).toBe('-');
  });
});

describe('colorEnabled', () => {
  test('a terminal colours unless NO_COLOR, FORCE_COLOR=0 or TERM=dumb say no; a pipe never does', () => {
    const tty = { isTTY: true };
    expect(colorEnabled({}, tty)).toBe(true);
    expect(colorEnabled({ NO_COLOR: '1' }, tty)).toBe(false);
    expect(colorEnabled({ NO_COLOR: '' }, tty)).toBe(true);
    expect(colorEnabled({ FORCE_COLOR: '0' }, tty)).toBe(false);
    expect(colorEnabled({ TERM: 'dumb' }, tty)).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
  });
});

describe('error lines', () => {
  test('program: error: message (CODE), no code for a usage error', () => {
    expect(errorLine('client', 'nobody is listening', 'ERR_CONNECT')).toBe(
      'client: error: nobody is listening (ERR_CONNECT)\n',
    );
    expect(errorLine('server', '--port must be a port number', 'ERR_USAGE')).toBe(
      'server: error: --port must be a port number\n',
    );
    expect(errorLine('server', 'plain')).toBe('server: error: plain\n');
  });

  test('errorJson: one line, ok false, the code and the exit code', () => {
    expect(JSON.parse(errorJson('ERR_AUTH', 'refused', 4, { source: 'a.txt' }))).toEqual({
      ok: false,
      source: 'a.txt',
      code: 'ERR_AUTH',
      message: 'refused',
      exitCode: 4,
    });
    expect(errorJson('ERR_X', 'm', 1).endsWith('}\n')).toBe(true);
  });
});

describe('programArgs', () => {
  test('drops one leading -- (what `pnpm start -- --help` passes on), nothing else', () => {
    expect(programArgs(['--', '--help'])).toEqual(['--help']);
    expect(programArgs(['send-file', '--', '-x'])).toEqual(['send-file', '--', '-x']);
    expect(programArgs([])).toEqual([]);
  });
});

describe('onStopSignals', () => {
  function setup(): { proc: EventEmitter; clock: { t: number }; seen: string[]; stop: () => void } {
    const proc = new EventEmitter();
    const clock = { t: 1000 };
    const seen: string[] = [];
    const stop = onStopSignals(
      { first: (s) => seen.push(`first ${s}`), again: (s) => seen.push(`again ${s}`) },
      proc,
      () => clock.t,
    );
    return { proc, clock, seen, stop };
  }

  test('the copy of a Ctrl-C that pnpm passes on is the same Ctrl-C; a later one is "again"', () => {
    const { proc, clock, seen } = setup();
    proc.emit('SIGINT');
    clock.t += 1;
    proc.emit('SIGINT');
    expect(seen).toEqual(['first SIGINT']);
    clock.t += SAME_SIGNAL_MS;
    proc.emit('SIGINT');
    expect(seen).toEqual(['first SIGINT', 'again SIGINT']);
  });

  test('a second SIGTERM, however soon, is "again"; stop() stops listening', () => {
    const { proc, seen, stop } = setup();
    proc.emit('SIGTERM');
    proc.emit('SIGTERM');
    expect(seen).toEqual(['first SIGTERM', 'again SIGTERM']);
    stop();
    expect(proc.listenerCount('SIGINT') + proc.listenerCount('SIGTERM')).toBe(0);
  });

  test('exit codes are 128 + the signal number', () => {
    expect(signalExitCode('SIGINT')).toBe(130);
    expect(signalExitCode('SIGTERM')).toBe(143);
  });
});

describe('exitWhenFlushed', () => {
  /** A stream whose writes complete when `flush()` is called. */
  function held(): OutStream & { flush(): void } {
    const callbacks: Array<() => void> = [];
    return {
      writable: true,
      destroyed: false,
      writableLength: 0,
      write(_chunk: string, cb?: () => void) {
        if (cb) callbacks.push(cb);
        return true;
      },
      flush() {
        for (const cb of callbacks.splice(0)) cb();
      },
    };
  }

  test('exits only once every stream has written what was queued', () => {
    const a = held();
    const b = held();
    const exits: number[] = [];
    const saved = process.exitCode;
    exitWhenFlushed(3, [a, b], (code) => exits.push(code));
    expect(exits).toEqual([]);
    a.flush();
    expect(exits).toEqual([]);
    b.flush();
    expect(exits).toEqual([3]);
    process.exitCode = saved;
  });

  test('exits at once when no stream is open', () => {
    const exits: number[] = [];
    const saved = process.exitCode;
    exitWhenFlushed(0, [{ ...held(), writable: false }], (code) => exits.push(code));
    expect(exits).toEqual([0]);
    process.exitCode = saved;
  });
});
