#!/usr/bin/env node
/**
 * Entry point: the one error boundary. Turns the CLI's result into an exit code: 0 ok (a clean stop on SIGINT or
 * SIGTERM included), 1 runtime failure, 2 usage error, 130/143 a forced stop, and exits once everything printed has
 * been written out. Nothing deeper calls process.exit.
 */
import './heap-setup'; // first: the young generation is sized before the modules below allocate (./heap.ts)
import './threadpool'; // sizes the thread pool before anything uses it
import { join, resolve } from 'node:path';
import {
  errorCode,
  errorJson,
  errorLine,
  exitWhenFlushed,
  invocationDir,
  onStopSignals,
  programArgs,
  quietOnEpipe,
  signalExitCode,
  type StopSignal,
} from '@proj/cli-kit';
import { PROGRAM, runCli } from './cli';
import { EXIT_FAILURE, EXIT_USAGE, jsonCode, wantsJson } from './cli-io';
import { UsageError } from './options';

const PACKAGE_DIR = join(__dirname, '..');

function waitForSignal(): Promise<string> {
  return new Promise((resolvePromise) => {
    onStopSignals({
      first: resolvePromise,
      // A second signal during the grace period stops at once, as the operator asks: puts under way are not
      // acknowledged, their temporaries are removed at the next start, and what was acknowledged is in the
      // journal, replayed at the next start (docs/SERVER.md §5). Exit code 128 + the signal number.
      // Only standard error is waited for, and for a second at most: a reader that does not read must not hold
      // up a forced stop. The copy of a Ctrl-C that pnpm passes on is not a second signal (@proj/cli-kit signals).
      again: (again: StopSignal) => {
        const code = signalExitCode(again);
        setTimeout(() => process.exit(code), 1000).unref();
        process.stderr.write(`${again} again: stopping now, puts under way are dropped\n`, () => process.exit(code));
      },
    });
  });
}

// A reader that goes away (`serve --help | head`) is not an error of ours: stop quietly instead of dying on an
// unhandled EPIPE.
quietOnEpipe([process.stdout, process.stderr]);

const streams = [process.stdout, process.stderr];

const argv = programArgs(process.argv.slice(2));

runCli({
  argv,
  env: process.env,
  // pnpm runs scripts in the package directory; INIT_CWD is where the user typed the command, so a relative
  // --data-dir means what the user meant (@proj/cli-kit invocationDir, as the client does). So does the default,
  // ./data: the same directory however the server is started (pnpm start, node dist/main.js, the installed command).
  cwd: invocationDir({ env: process.env, cwd: process.cwd(), packageDir: PACKAGE_DIR }),
  defaultDataDir: resolve(invocationDir({ env: process.env, cwd: process.cwd(), packageDir: PACKAGE_DIR }), 'data'),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  waitForSignal,
}).then(
  (code) => exitWhenFlushed(code, streams),
  (err: unknown) => {
    const exitCode = err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
    const message = (err as Error).message ?? String(err);
    process.stderr.write(errorLine(PROGRAM, message, errorCode(err)));
    if (wantsJson(argv)) process.stdout.write(errorJson(jsonCode(errorCode(err), exitCode), message, exitCode));
    exitWhenFlushed(exitCode, streams);
  },
);
