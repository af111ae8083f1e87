import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import { createDecryptStream } from './decrypt-stream';
import { createEncryptStream } from './encrypt-stream';
import type { DecryptOptions, EncryptOptions } from './header';

/** Options shared by {@link encryptFile} and {@link decryptFile}. */
export interface FileOptions {
  /** Permissions of the output file (default 0o600: plaintext and ciphertext alike stay private). */
  mode?: number;
}

/** Read size for files: large reads cut per-chunk overhead; memory stays a few MiB. */
const READ_SIZE = 1024 * 1024;

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename itself already happened.
  } finally {
    await handle.close();
  }
}

/**
 * Streams `inPath` through `transform` into a temporary file next to `outPath` (created with O_EXCL), fsyncs it
 * and renames it over `outPath` only on success. On any failure the temporary file is removed, so no partial or
 * unauthenticated output is ever visible at `outPath`.
 */
async function transformFile(inPath: string, outPath: string, transform: Transform, mode: number): Promise<void> {
  const dir = path.dirname(path.resolve(outPath));
  const tmp = path.join(dir, `.${path.basename(outPath)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', mode);
  let closed = false;
  try {
    await pipeline(
      createReadStream(inPath, { highWaterMark: READ_SIZE }),
      transform,
      handle.createWriteStream({ autoClose: false, highWaterMark: READ_SIZE }),
    );
    await handle.sync();
    closed = true;
    await handle.close();
    await rename(tmp, outPath);
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/**
 * Encrypts a file into an age file, atomically (temp file + fsync + rename; nothing at `outPath` on failure).
 *
 * @param inPath - plaintext file.
 * @param outPath - where the `.age` file goes; replaced if it exists.
 * @param opts - `recipients` (`age1…`) or `passphrase`; `mode` of the output (default 0o600).
 */
export async function encryptFile(inPath: string, outPath: string, opts: EncryptOptions & FileOptions): Promise<void> {
  await transformFile(inPath, outPath, createEncryptStream(opts), opts.mode ?? 0o600);
}

/**
 * Decrypts an age file, atomically: the plaintext appears at `outPath` only after the whole file authenticated.
 * A wrong key, tampering or truncation leaves `outPath` untouched and no temporary file behind.
 *
 * @param inPath - the `.age` file (binary form).
 * @param outPath - where the plaintext goes; replaced if it exists.
 * @param opts - `identities` and/or `passphrase`; `mode` of the output (default 0o600).
 */
export async function decryptFile(inPath: string, outPath: string, opts: DecryptOptions & FileOptions): Promise<void> {
  await transformFile(inPath, outPath, createDecryptStream(opts), opts.mode ?? 0o600);
}
