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
