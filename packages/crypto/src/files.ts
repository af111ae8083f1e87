import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AgeDecoder, AgeEncoder } from './codec';
import type { DecryptOptions, EncryptOptions } from './header';

/** Options shared by {@link encryptFile} and {@link decryptFile}. */
export interface FileOptions {
  /** Permissions of the output file (default 0o600: plaintext and ciphertext alike stay private). */
  mode?: number;
  /**
   * fsync the output and its directory before/after the rename (default true), so that a crash never leaves a
   * renamed but empty file. `false` is for scratch output only; the bench uses it to compare with the age CLI,
   * which does not fsync.
   */
  durable?: boolean;
}

/** Bytes per read. Two read buffers, one batch being encrypted and one being written: ~4 MiB in all. */
const BLOCK = 1024 * 1024;

/** The part of AgeEncoder/AgeDecoder the file loop needs. */
interface Codec {
  /** Bytes to write before any input (the header, for encryption). */
  start(): Promise<Buffer[]>;
  /** Output for `input`; must not keep a reference to `input`, whose buffer is reused. */
  push(input: Buffer): Buffer[] | Promise<Buffer[]>;
  /** Last output; throws if the input was incomplete. */
  finish(): Buffer;
}

async function writeAll(handle: FileHandle, parts: Buffer[]): Promise<void> {
  let rest = parts.filter((p) => p.length > 0);
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest);
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const p of rest) {
      if (skip >= p.length) skip -= p.length;
      else {
        next.push(skip > 0 ? p.subarray(skip) : p);
        skip = 0;
      }
    }
    rest = next;
  }
}

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

const ignore = (): void => undefined;

/**
 * Runs `inPath` through `codec` into a temporary file next to `outPath` (O_EXCL, `mode`), fsyncs it and renames it
 * over `outPath` only on success; on any failure the temporary file is removed, so nothing partial or
 * unauthenticated ever appears at `outPath`.
 *
 * Three stages overlap: the next read (thread pool), the cipher (this thread) and the previous write (thread pool).
 * At most one read and one write are in flight, so memory stays at a few MiB whatever the file size.
 */
async function transformFile(inPath: string, outPath: string, codec: Codec, opts: FileOptions): Promise<void> {
  const durable = opts.durable ?? true;
  const dir = path.dirname(path.resolve(outPath));
  const tmp = path.join(dir, `.${path.basename(outPath)}.${randomBytes(6).toString('hex')}.tmp`);
  const input = await open(inPath, 'r');
  let output: FileHandle | undefined;
  let reading: Promise<{ bytesRead: number; buffer: Buffer }> | undefined;
  let writing: Promise<void> = Promise.resolve();
  try {
    output = await open(tmp, 'wx', opts.mode ?? 0o600);
    const out = output;
    const buffers = [Buffer.allocUnsafe(BLOCK), Buffer.allocUnsafe(BLOCK)];
    let which = 0;
    writing = writeAll(out, await codec.start());
    reading = input.read(buffers[which] as Buffer, 0, BLOCK, null);
    for (;;) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) break;
      which ^= 1;
      reading = input.read(buffers[which] as Buffer, 0, BLOCK, null);
      const parts = await codec.push(buffer.subarray(0, bytesRead));
      await writing;
      writing = writeAll(out, parts);
    }
    reading = undefined;
    await writing;
    await writeAll(out, [codec.finish()]);
    if (durable) await out.sync();
    output = undefined;
    await out.close();
    await rename(tmp, outPath);
  } catch (err) {
    await reading?.catch(ignore);
    await writing.catch(ignore);
    await output?.close().catch(ignore);
    await rm(tmp, { force: true });
    throw err;
  } finally {
    await input.close().catch(ignore);
  }
  if (durable) await fsyncDir(dir);
}

/**
 * Encrypts a file into an age file, atomically (temp file + fsync + rename; nothing at `outPath` on failure).
 *
 * @param inPath - plaintext file.
 * @param outPath - where the `.age` file goes; replaced if it exists.
 * @param opts - `recipients` (`age1…`) or `passphrase`; `mode` of the output (default 0o600); `durable`.
 * @throws CryptoOptionsError for bad options; fs errors (ENOENT…) as they are.
 */
export async function encryptFile(inPath: string, outPath: string, opts: EncryptOptions & FileOptions): Promise<void> {
  const encoder = new AgeEncoder(opts);
  await transformFile(
    inPath,
    outPath,
    { start: async () => [await encoder.start()], push: (b) => encoder.push(b), finish: () => encoder.finish() },
    opts,
  );
}

/**
 * Decrypts an age file, atomically: the plaintext appears at `outPath` only after the whole file authenticated.
 * A wrong key, tampering or truncation leaves `outPath` untouched and no temporary file behind.
 *
 * @param inPath - the `.age` file (binary form).
 * @param outPath - where the plaintext goes; replaced if it exists.
 * @param opts - `identities` and/or `passphrase`; `mode` of the output (default 0o600); `durable`.
 * @throws the codes of {@link createDecryptStream}; fs errors (ENOENT…) as they are.
 */
export async function decryptFile(inPath: string, outPath: string, opts: DecryptOptions & FileOptions): Promise<void> {
  const decoder = new AgeDecoder(opts);
  await transformFile(
    inPath,
    outPath,
    {
      start: () => Promise.resolve([]),
      push: (b) => (decoder.inPayload ? decoder.pushPayload(b) : decoder.push(b)),
      finish: () => decoder.finish(),
    },
    opts,
  );
}
