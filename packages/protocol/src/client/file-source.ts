/**
 * The bytes `sendFile` sends: the file itself, or its age encryption made repeatable (@proj/crypto `AgeKeys`:
 * the same keys and file give the same ciphertext), so a cut send of either resumes from the server's offset
 * (docs/CRYPTO.md, "Resuming an encrypted send").
 */
import { ageFileSize, ageKeysMatch, createAgeKeys, CryptoOptionsError, encryptWithKeys } from '@proj/crypto';
import { DEFAULT_CHUNK_BYTES } from '../limits';
import { FileChunks } from './file-chunks';
import type { RepeatableSource } from './session';
import type { EncryptionKeys, EncryptOption } from './types';

/** Plaintext read at a time for encryption (the cipher works in 64 KiB chunks; larger reads cost fewer calls). */
const ENCRYPT_READ_BYTES = 1024 * 1024;

/** The file at `path` (of `size` bytes), read in chunks of `chunkBytes`. */
export function plainSource(path: string, size: number, chunkBytes = DEFAULT_CHUNK_BYTES): RepeatableSource {
  // The readers of the current put: from the start, and (a resume) the tail's; each takes back only its own chunks.
  let current: FileChunks | undefined;
  let tail: FileChunks | undefined;
  return {
    size,
    open() {
      current = new FileChunks(path, chunkBytes);
      return current;
    },
    openAt(offset) {
      tail = new FileChunks(path, chunkBytes, offset);
      return tail;
    },
    recycle(chunk) {
      current?.recycle(chunk);
      tail?.recycle(chunk);
    },
  };
}

/** Keys as the library hands them out: with what they were made for, so they are reused only for that. */
export interface KeptKeys extends EncryptionKeys {
  /** The recipients they encrypt to, sorted; absent for a passphrase. */
  recipients?: readonly string[];
}

/**
 * Keys for encrypting to `mode`: `earlier` when they were made for the same recipients or passphrase, else new
 * ones. `serverRecipient` is what `encrypt: true` means.
 */
export async function keysFor(
  mode: EncryptOption,
  serverRecipient: string | undefined,
  earlier: KeptKeys | undefined,
): Promise<KeptKeys> {
  if (mode === true || 'recipients' in mode) {
    const recipients = mode === true ? (serverRecipient === undefined ? [] : [serverRecipient]) : [...mode.recipients];
    if (recipients.length === 0) {
      throw new CryptoOptionsError(
        mode === true ? 'the server announces no age recipient to encrypt to' : 'no recipient to encrypt to',
      );
    }
    const sorted = [...recipients].sort();
    if (earlier?.recipients && sameList(earlier.recipients, sorted)) return earlier;
    return { ...(await createAgeKeys({ recipients: sorted })), recipients: sorted };
  }
  if (earlier && earlier.recipients === undefined) {
    const keys = { prologue: Buffer.from(earlier.prologue), payloadKey: Buffer.from(earlier.payloadKey) };
    if (await ageKeysMatch(keys, { passphrase: mode.passphrase, maxScryptWorkFactor: 22 })) return earlier;
  }
  return createAgeKeys({
    passphrase: mode.passphrase,
    ...(mode.scryptWorkFactor !== undefined ? { scryptWorkFactor: mode.scryptWorkFactor } : {}),
  });
}

/**
 * The age encryption of the file at `path` (of `size` bytes) with `keys`: the same bytes on every `open()`.
 * `renew()` (after a partial that did not match) makes new keys with `newKeys`.
 */
export function encryptedSource(
  path: string,
  size: number,
  keys: EncryptionKeys,
  newKeys: () => Promise<EncryptionKeys>,
): RepeatableSource {
  const ageKeys = { prologue: Buffer.from(keys.prologue), payloadKey: Buffer.from(keys.payloadKey) };
  return {
    size: ageFileSize(ageKeys, size),
    open: () => encryptWithKeys(ageKeys, new FileChunks(path, ENCRYPT_READ_BYTES)),
    renew: async () => encryptedSource(path, size, await newKeys(), newKeys),
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
