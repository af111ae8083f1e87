#!/usr/bin/env node
/**
 * Entry point of `pnpm conformance`, and the one error boundary: a usage error prints the usage (exit code 2), a
 * server that cannot be checked at all, or vectors that cannot be read, exit 1 with the reason.
 */
import { runCli } from './cli';
import { ExitCode } from './report';
import { USAGE } from './options';

runCli({ argv: process.argv.slice(2), stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = (err as { code?: unknown }).code;
    const usage = code === 'ERR_USAGE' || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`conformance: ${(err as Error).message ?? String(err)}\n${usage ? USAGE : ''}`);
    process.exitCode = usage ? ExitCode.Usage : ExitCode.Failed;
  },
);
