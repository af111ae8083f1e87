/**
 * Repeatable age encryption, for a send that may be resumed (docs/CRYPTO.md, "Resuming an encrypted send").
 *
 * An age file is header || payload nonce || payload, and each 64 KiB payload chunk depends only on the payload key,
 * its index and its plaintext. Keep the header, the nonce and the payload key (`AgeKeys`) and the same plaintext
 * encrypts to the same bytes every time: a sender cut at byte N can hash its first N bytes again and send the rest,
 * and the file the server ends up with opens with the age CLI like any other.
 *
 * The payload key opens the payload: `AgeKeys` is as secret as the plaintext. Keep them only as long as the send.
 */
import { CHUNK_SIZE, PAYLOAD_NONCE_SIZE, TAG_SIZE } from './constants';
import { randomBytes } from 'node:crypto';
import { openHeader, sealHeader, type DecryptOptions, type EncryptOptions } from './header';
import { PayloadSealer, payloadKey } from './payload';

/** What makes an encryption repeatable: the age file's first bytes (header and nonce) and the payload key. */
export interface AgeKeys {
  /** Header and payload nonce: the first bytes of every encryption with these keys. */
  prologue: Buffer;
  /** The STREAM key derived from the file key and the nonce (32 bytes). Secret. */
  payloadKey: Buffer;
}

/** New keys for `opts` (a fresh file key and nonce; scrypt runs once for a passphrase). */
export async function createAgeKeys(opts: EncryptOptions): Promise<AgeKeys> {
  const { header, fileKey } = await sealHeader(opts);
  const nonce = randomBytes(PAYLOAD_NONCE_SIZE);
  const key = payloadKey(fileKey, nonce);
  fileKey.fill(0);
  return { prologue: Buffer.concat([header, nonce]), payloadKey: key };
}

/**
 * True when the header in `keys` opens with `opts` to the same payload key: kept keys are reused only for the
 * recipient or passphrase they were made for (a passphrase costs one scrypt here).
 */
export async function ageKeysMatch(keys: AgeKeys, opts: DecryptOptions): Promise<boolean> {
  const header = keys.prologue.subarray(0, keys.prologue.length - PAYLOAD_NONCE_SIZE);
  const nonce = keys.prologue.subarray(keys.prologue.length - PAYLOAD_NONCE_SIZE);
  try {
    const fileKey = await openHeader(Buffer.from(header), opts);
    const key = payloadKey(fileKey, nonce);
    fileKey.fill(0);
    return key.equals(keys.payloadKey);
  } catch {
    return false;
  }
}

/** The exact size of the age file `keys` makes of `plainBytes` bytes of plaintext. */
export function ageFileSize(keys: AgeKeys, plainBytes: number): number {
  const chunks = plainBytes === 0 ? 1 : Math.ceil(plainBytes / CHUNK_SIZE);
  return keys.prologue.length + plainBytes + chunks * TAG_SIZE;
}

/**
 * Encrypts `plaintext` (any split into buffers) with `keys`, yielding the whole age file. The same keys and
 * plaintext always yield the same bytes. Each chunk's ciphertext and tag are yielded as they are, not joined: a
 * join per read copied every byte once more and allocated a second buffer for it, which made copying and garbage
 * collection a third of the encrypting client's CPU (a profile of `send-file --encrypt`, 1 GiB).
 */
export async function* encryptWithKeys(
  keys: AgeKeys,
  plaintext: AsyncIterable<Uint8Array>,
): AsyncGenerator<Buffer, void, undefined> {
  const sealer = new PayloadSealer(keys.payloadKey);
  yield Buffer.from(keys.prologue);
  for await (const chunk of plaintext) {
    const out = sealer.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    for (const piece of out) yield piece;
  }
  yield sealer.finish();
}
