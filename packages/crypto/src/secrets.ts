import { open, stat } from 'node:fs/promises';
import { SecretFileError } from './errors';

/** A passphrase file larger than this is a mistake (a key file, a binary), not a passphrase. */
const MAX_SECRET_FILE = 64 * 1024;

/**
 * Reads a passphrase (or other secret) from a file. Secrets come from files, never from command-line arguments,
 * which other users can read in the process list.
 *
 * One trailing newline (`\n` or `\r\n`) is stripped, as an editor or `echo` adds it; everything else is kept.
 *
 * @throws SecretFileError if the file is empty (after the newline), larger than 64 KiB, or not valid UTF-8.
 */
export async function readSecretFile(filePath: string): Promise<string> {
  const handle = await open(filePath, 'r');
  let bytes: Buffer;
  try {
    const { size } = await handle.stat();
    if (size > MAX_SECRET_FILE) throw new SecretFileError(`secret file ${filePath} is too large (${size} bytes)`);
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new SecretFileError(`secret file ${filePath} is not UTF-8 text`, { cause });
  }
  if (text.endsWith('\r\n')) text = text.slice(0, -2);
  else if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text.length === 0) throw new SecretFileError(`secret file ${filePath} is empty`);
  return text;
}

/**
 * Tells whether a secret file (identity, passphrase) can be read by its group or by others, so that the caller
 * can warn or refuse. Follows symlinks, like the open that reads the file.
 *
 * @returns `true` if any of the group/other permission bits is set (mode & 0o077).
 */
export async function isSecretFileExposed(filePath: string): Promise<boolean> {
  const { mode } = await stat(filePath);
  return (mode & 0o077) !== 0;
}
