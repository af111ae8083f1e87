#!/usr/bin/env node
/**
 * Entry point: the one error boundary. Turns the CLI's result into an exit code: 0 ok, 1 runtime failure,
 * 2 usage error, and exits once everything printed has been written out. Nothing deeper calls process.exit.
 */
import './threadpool'; // first: sizes the thread pool before anything uses it
import { resolve } from 'node:path';
import { runCli } from './cli';
import { EXIT_FAILURE, EXIT_USAGE } from './cli-io';
import { UsageError } from './options';

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string): void => {
      process.removeListener('SIGINT', on);
      process.removeListener('SIGTERM', on);
      // A second signal during the grace period stops at once, as the operator asks: puts under way are not
      // acknowledged, their temporaries are removed at the next start, and what was acknowledged is in the
      // journal, replayed at the next start (docs/SERVER.md §5). Exit code 128 + the signal number.
      // Only standard error is waited for, and for a second at most: a reader that does not read must not hold
      // up a forced stop.
      const force = (again: string): void => {
        const code = again === 'SIGINT' ? 130 : 143;
        setTimeout(() => process.exit(code), 1000).unref();
        process.stderr.write(`${again} again: stopping now, puts under way are dropped\n`, () => process.exit(code));
      };
      process.on('SIGINT', force);
      process.on('SIGTERM', force);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

// A reader that goes away (`serve --help | head`) is not an error of ours: stop quietly instead of dying on an
// unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

runCli({
  argv: process.argv.slice(2),
  env: process.env,
  // pnpm runs scripts in the package directory; INIT_CWD is where the user typed the command, so a relative
  // --data-dir means what the user meant. So does the default, ./data: the same directory however the server is
  // started (pnpm start, node dist/main.js, the installed command).
  cwd: process.env.INIT_CWD || process.cwd(),
  defaultDataDir: resolve(process.env.INIT_CWD || process.cwd(), 'data'),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  waitForSignal,
}).then(
  (code) => exitWhenFlushed(code),
  (err: unknown) => {
    const usage = err instanceof UsageError;
    const code = (err as { code?: unknown }).code;
    process.stderr.write(
      `server: ${(err as Error).message ?? String(err)}${!usage && typeof code === 'string' ? ` (${code})` : ''}\n`,
    );
    exitWhenFlushed(usage ? EXIT_USAGE : EXIT_FAILURE);
  },
);

/**
 * Exits with `code` once everything written to standard output and error has reached the operating system. Writes
 * to a pipe are asynchronous: exiting with writes queued loses them (`list --json | slow-reader` got 208 lines
 * of 800). A write's callback runs after every earlier write on that stream is done, so an empty write marks the
 * end. The exit itself stays explicit: a handle left open somewhere must not keep a finished command alive.
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  const streams = [process.stdout, process.stderr].filter((s) => s.writable && !s.destroyed);
  let pending = streams.length;
  if (pending === 0) process.exit(code);
  for (const stream of streams) {
    stream.write('', () => {
      pending -= 1;
      if (pending === 0) process.exit(code);
    });
  }
  // A reader that reads slowly is waited for; one that stopped reading (a pipe nobody drains) is not: after
  // STALLED_MS without progress, the rest is given up.
  let left = queued(streams);
  const watch = setInterval(() => {
    const now = queued(streams);
    if (now >= left) process.exit(code);
    left = now;
  }, STALLED_MS);
  watch.unref();
}

const STALLED_MS = 5000;

function queued(streams: NodeJS.WriteStream[]): number {
  return streams.reduce((n, s) => n + s.writableLength, 0);
}
