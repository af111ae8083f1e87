/**
 * Encryption for sending: the file is encrypted as it is sent, chunk by chunk, with nothing written to disk.
 *
 * age output is random, so a retry sends different bytes under the same put id. That is fine when the earlier
 * attempt was not stored (the server keeps nothing of an interrupted put). When it was stored and only its
 * receipt was lost, the server answers the retry with the first receipt before any byte moves, and the client
 * accepts it because it matches what that earlier attempt sent in full (`earlierAttempts` in the library).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { CHUNK_SIZE, createEncryptStream } from '@proj/crypto';

export type EncryptMode =
  | { kind: 'recipients'; recipients: readonly string[] }
  | { kind: 'passphrase'; passphrase: string };

/** Options for tests only: a low scrypt work factor keeps passphrase tests fast. */
export interface EncryptTuning {
  scryptWorkFactor?: number;
}

export interface EncryptedSource {
  /** Size of the plaintext. */
  plainBytes: number;
  /** The age payload's size (the header's few hundred bytes aside): for a progress bar. */
  approxBytes: number;
  /** A fresh encryption of the file, as a stream; it fails with the read's or the cipher's error. */
  open(): Readable;
}

/** Plaintext read at a time. */
const READ_BYTES = 1024 * 1024;

/** Encrypts `path` on demand: each `open()` is a new encryption (a new file key, and scrypt for a passphrase). */
export async function encryptedSource(
  path: string,
  mode: EncryptMode,
  tuning: EncryptTuning = {},
): Promise<EncryptedSource> {
  const { size } = await stat(path);
  const open = (): Readable =>
    pipeline(
      createReadStream(path, { highWaterMark: READ_BYTES }),
      createEncryptStream({
        ...(mode.kind === 'recipients' ? { recipients: mode.recipients } : { passphrase: mode.passphrase }),
        ...(tuning.scryptWorkFactor !== undefined && mode.kind === 'passphrase'
          ? { scryptWorkFactor: tuning.scryptWorkFactor }
          : {}),
      }),
      () => undefined, // an error reaches the reader through the last stream
    );
  return { plainBytes: size, approxBytes: size + 16 * Math.max(1, Math.ceil(size / CHUNK_SIZE)), open };
}

/** A recipient as age writes it: `age1` and Bech32 characters. The crypto package checks it fully. */
export function looksLikeRecipient(text: string): boolean {
  return /^age1[02-9ac-hj-np-z]{50,}$/.test(text);
}
