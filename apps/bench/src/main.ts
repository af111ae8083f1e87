#!/usr/bin/env node
/**
 * Entry point of `pnpm bench`, and the one error boundary: an error that reaches here is printed and becomes
 * exit code 1 (2 for a usage error). A missed target is a result, not an error: the table says it.
 */
import { runBench, USAGE } from './cli';

runBench({ argv: process.argv.slice(2), stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = (err as { code?: unknown }).code;
    const usage = code === 'ERR_USAGE' || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`bench: ${(err as Error).message ?? String(err)}\n${usage ? USAGE : ''}`);
    process.exitCode = usage ? 2 : 1;
  },
);
