/** What the command line gets from the process (main.ts builds it; the commands use it). */
import type { Prompter } from './prompts';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  /** Standard input: `send-dict --data-file -` and `send-file -` read it. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Both standard input and standard output are terminals. */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C outside a prompt. */
  signal: AbortSignal;
  /** The prompter for the interactive session (the terminal one in production). */
  prompter: () => Prompter;
}
