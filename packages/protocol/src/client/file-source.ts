/**
 * The bytes `sendFile` sends: the file itself, or its age encryption made repeatable (@proj/crypto `AgeKeys`:
 * the same keys and file give the same ciphertext), so a cut send of either resumes from the server's offset
 * (docs/CRYPTO.md, "Resuming an encrypted send").
 */
import {
  ageFileSize,
  ageKeysMatch,
  createAgeKeys,
  CryptoOptionsError,
  type EncryptedFileChunks,
  encryptFileInWorker,
  encryptWithKeys,
} from '@proj/crypto';
import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DEFAULT_CHUNK_BYTES } from '../limits';
import { FileChunks } from './file-chunks';
import { checkpointsOf, fileIdentity, forgetCheckpoints } from './hash-checkpoints';
import type { RepeatableSource } from './repeatable-source';
import type { EncryptionKeys, EncryptOption } from './types';

/** Readers of one put whose chunks a source takes back: a resume reads from its start and from its offset. */
const MAX_READERS = 3;

/** Plaintext read at a time for encryption (the cipher works in 64 KiB chunks; larger reads cost fewer calls). */
const ENCRYPT_READ_BYTES = 1024 * 1024;

/**
 * Files from this size on are encrypted in a worker thread beside the sending one (@proj/crypto
 * `encryptFileInWorker`); smaller ones on the sending thread, where they cost less than starting a worker
 * (measured figures in docs/CLIENT.md, "Encryption").
 */
export const ENCRYPT_IN_WORKER_FROM_BYTES = 16 * 1024 * 1024;

/**
 * The file at `path`, read in chunks of `chunkBytes`; `stats` from `stat(path, { bigint: true })` before it is
 * read. Its SHA-256 states are kept while it is sent (./hash-checkpoints.ts), for a resume in this process.
 */
export function plainSource(path: string, stats: BigIntStats, chunkBytes = DEFAULT_CHUNK_BYTES): RepeatableSource {
  const identity = fileIdentity(path, stats);
  // The readers of the current put (a resume has two at once); each takes back only its own chunks.
  const readers: FileChunks[] = [];
  const reader = (start: number): FileChunks => {
    const chunks = new FileChunks(path, chunkBytes, start);
    readers.push(chunks);
    if (readers.length > MAX_READERS) readers.shift();
    return chunks;
  };
  return {
    size: Number(stats.size),
    open: () => reader(0),
    openAt: (offset) => reader(offset),
    recycle(chunk) {
      for (const r of readers) r.recycle(chunk);
    },
    checkpoints: checkpointsOf(identity),
    unchanged: async () => {
      try {
        return fileIdentity(path, await stat(path, { bigint: true })) === identity;
      } catch {
        return false;
      }
    },
    done: () => forgetCheckpoints(identity),
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
 * `renew()` (after a partial that did not match) makes new keys with `newKeys`. A file of `inWorkerFrom` bytes or
 * more is encrypted in a worker thread, a smaller one on this thread: the same bytes either way.
 */
export function encryptedSource(
  path: string,
  size: number,
  keys: EncryptionKeys,
  newKeys: () => Promise<EncryptionKeys>,
  inWorkerFrom = ENCRYPT_IN_WORKER_FROM_BYTES,
): RepeatableSource {
  const ageKeys = { prologue: Buffer.from(keys.prologue), payloadKey: Buffer.from(keys.payloadKey) };
  // The sources of the current put (a duplicate's check and a resume each open one); each takes back its own chunks.
  const readers: EncryptedFileChunks[] = [];
  return {
    size: ageFileSize(ageKeys, size),
    open: () => {
      if (size < inWorkerFrom) return encryptWithKeys(ageKeys, new FileChunks(path, ENCRYPT_READ_BYTES));
      const chunks = encryptFileInWorker(ageKeys, path);
      readers.push(chunks);
      if (readers.length > MAX_READERS) readers.shift();
      return chunks;
    },
    recycle(chunk) {
      for (const r of readers) r.recycle(chunk);
    },
    renew: async () => encryptedSource(path, size, await newKeys(), newKeys, inWorkerFrom),
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
