#!/usr/bin/env node
/**
 * Entry point, and the one error boundary: every error that reaches here is told on standard error and mapped to
 * an exit code (src/errors.ts, docs/CLIENT.md). Nothing deeper calls process.exit.
 */
import { run } from './cli';
import { describeError, ExitCode, exitCodeFor, ReportedUsageError } from './errors';
import { terminalPrompter } from './prompts';

async function main(): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  // Ctrl-C outside a prompt (a prompt reads the key itself): stop the send, close, exit 130. A second one leaves at once.
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(ExitCode.Interrupted);
    controller.abort();
  });
  try {
    return await run(process.argv.slice(2), {
      stdout: process.stdout,
      stderr: process.stderr,
      interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
      env: process.env,
      signal: controller.signal,
      prompter: terminalPrompter,
    });
  } catch (err) {
    const code = controller.signal.aborted ? ExitCode.Interrupted : exitCodeFor(err);
    if (!(err instanceof ReportedUsageError)) {
      process.stderr.write(code === ExitCode.Interrupted ? 'interrupted\n' : `error: ${describeError(err)}\n`);
    }
    if (code === ExitCode.Failure && process.env.PROJ_CLIENT_DEBUG && err instanceof Error)
      process.stderr.write(`${err.stack}\n`);
    return code;
  }
}

void main().then((code) => {
  // Exit once standard output has been flushed: a pipe reader must get every receipt line.
  process.stdout.write('', () => process.exit(code));
});
