/**
 * Encryption before sending: the file is encrypted once, into an owner-only temporary file, and that file is
 * what is sent. A retry therefore resends the very same bytes (age output is random, so encrypting again
 * would give a different SHA-256 under the same put id, which the server would rightly call a mismatch).
 */
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { encryptFile } from '@proj/crypto';

export type EncryptMode = { kind: 'recipients'; recipients: readonly string[] } | { kind: 'passphrase'; passphrase: string };

export interface EncryptedTemp {
  /** The age file to send. */
  path: string;
  /** Size of the plaintext. */
  plainBytes: number;
  /** Removes the temporary directory. Safe to call twice. */
  remove(): Promise<void>;
}

/** Options for tests only: a low scrypt work factor keeps passphrase tests fast. */
export interface EncryptTuning {
  scryptWorkFactor?: number;
}

/** Encrypts `path` into a fresh 0700 directory as a 0600 file; the caller sends it, then calls `remove()`. */
export async function encryptToTemp(path: string, mode: EncryptMode, tuning: EncryptTuning = {}): Promise<EncryptedTemp> {
  const { size } = await stat(path);
  const dir = await mkdtemp(join(tmpdir(), 'proj-client-'));
  await chmod(dir, 0o700);
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const out = join(dir, `${basename(path)}.age`);
  try {
    await encryptFile(path, out, {
      mode: 0o600,
      // A scratch copy, deleted once sent: a crash loses nothing, so it needs no fsync (0.7 s per GiB here).
      durable: false,
      ...(mode.kind === 'recipients' ? { recipients: mode.recipients } : { passphrase: mode.passphrase }),
      ...(tuning.scryptWorkFactor !== undefined && mode.kind === 'passphrase' ? { scryptWorkFactor: tuning.scryptWorkFactor } : {}),
    });
  } catch (err) {
    await remove();
    throw err;
  }
  return { path: out, plainBytes: size, remove };
}

/** A recipient as age writes it: `age1` and Bech32 characters. The crypto package checks it fully. */
export function looksLikeRecipient(text: string): boolean {
  return /^age1[02-9ac-hj-np-z]{50,}$/.test(text);
}
