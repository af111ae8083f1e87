/**
 * What the command line gets from the process (main.ts builds it; the commands use it), and the exit codes it
 * returns.
 */
import type { Writable } from 'node:stream';

export interface CliIo {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Where relative paths given by the user resolve from. */
  cwd: string;
  /** Data directory when none is given. */
  defaultDataDir: string;
  stdin: { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  /** Resolves with the name of the first SIGINT/SIGTERM. */
  waitForSignal(): Promise<string>;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * `--json` among the options, before any `--`: the item commands that print JSON (`list`, `show`, `rm`, `prune`)
 * then tell a failure as one JSON line on standard output too, as the client does (@proj/cli-kit errorJson).
 */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** The code a failure is told with in JSON: its own, or ERR_USAGE for a usage error, ERR_SERVER otherwise. */
export function jsonCode(code: string | undefined, exitCode: number): string {
  if (code !== undefined) return code;
  return exitCode === EXIT_USAGE ? 'ERR_USAGE' : 'ERR_SERVER';
}
