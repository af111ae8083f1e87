/**
 * Standard input as the scripted commands read it: `send-dict --data-file -` takes it as text, `send-file -` as a
 * file. A file from a pipe is first copied to a private temporary file (mode 0600, in TMPDIR) and sent from there,
 * so that it is sent like any file: its size known, and a retry after a lost connection sends the same bytes
 * (a pipe cannot be read twice). The copy is removed when the command ends.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '@proj/cli-kit';

/** What standard input is to these helpers. */
export type Stdin = NodeJS.ReadableStream & { isTTY?: boolean };

/** The word on the command line that means standard input. */
export const STDIN_PATH = '-';

/** The name a file from standard input gets on the server when `--name` does not give one. */
export const STDIN_NAME = 'stdin';

/** All of standard input as UTF-8 text. */
export async function readStdinText(stdin: Stdin, flag: string): Promise<string> {
  refuseTerminal(stdin, flag);
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

export interface SpooledStdin {
  /** The temporary file holding what standard input gave. */
  path: string;
  remove(): Promise<void>;
}

/** Copies standard input to a private temporary file. */
export async function spoolStdin(stdin: Stdin): Promise<SpooledStdin> {
  refuseTerminal(stdin, 'send-file -');
  const dir = await mkdtemp(join(tmpdir(), 'proj-client-stdin-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const path = join(dir, 'stdin');
  try {
    await pipeline(stdin, createWriteStream(path, { mode: 0o600, flags: 'wx' }));
  } catch (err) {
    await remove();
    throw err;
  }
  return { path, remove };
}

/** Reading a terminal would wait for typing nobody announced: refuse it, saying how to pipe instead. */
function refuseTerminal(stdin: Stdin, what: string): void {
  if (stdin.isTTY)
    throw new UsageError(`${what}: standard input is a terminal; pipe something in (\`… | client ${what} …\`)`);
}
