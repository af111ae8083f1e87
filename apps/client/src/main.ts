#!/usr/bin/env node
/**
 * Entry point, and the one error boundary: `run` (./cli.ts) tells every failure and returns the exit code
 * (src/errors.ts, docs/CLIENT.md); this file only wires the process in and exits once standard output and error
 * have been written out. Nothing deeper calls process.exit.
 */
import { join } from 'node:path';
import { exitWhenFlushed, invocationDir, onStopSignals, programArgs, quietOnEpipe } from '@proj/cli-kit';
import { run } from './cli';
import { ExitCode } from './errors';
import { terminalPrompter } from './prompts';

// `pnpm --filter client start send-file notes.txt` runs in apps/client; the person meant notes.txt where they
// typed the command. Working from that folder makes every path (flags, arguments, the interactive file picker)
// mean what they meant (@proj/cli-kit invocationDir).
try {
  process.chdir(invocationDir({ env: process.env, cwd: process.cwd(), packageDir: join(__dirname, '..') }));
} catch {
  // That folder is gone (removed since pnpm started): paths resolve from where the program runs, as without pnpm.
}

// `client --help | head`: a reader that goes away ends the program quietly.
quietOnEpipe([process.stdout, process.stderr]);

const controller = new AbortController();
// Ctrl-C outside a prompt (a prompt reads the key itself): stop the send, close, exit 130. A second one, later
// than the copy pnpm passes on, leaves at once.
onStopSignals({
  first: () => controller.abort(),
  again: () => {
    process.stderr.write('client: interrupted again: leaving now\n', () => process.exit(ExitCode.Interrupted));
  },
});

void run(programArgs(process.argv.slice(2)), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  env: process.env,
  signal: controller.signal,
  prompter: terminalPrompter,
}).then((code) => exitWhenFlushed(code, [process.stdout, process.stderr]));
