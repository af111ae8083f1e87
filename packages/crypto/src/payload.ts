/**
 * The age payload: STREAM over ChaCha20-Poly1305 (https://age-encryption.org/v1, section "Payload").
 *
 *   payload key = HKDF-SHA256(ikm = file key, salt = 16-byte nonce, info = "payload")
 *   chunk i     = ChaCha20-Poly1305(key, nonce = 11-byte big-endian i || last flag, plaintext <= 64 KiB)
 *
 * Every chunk but the last holds exactly 64 KiB; the last is flagged 0x01 and may be full; it is empty only
 * when the whole payload is empty. The cipher runs on node:crypto (OpenSSL) rather than the npm library's
 * pure-JS ChaCha20, which is what makes this package ~5x faster than `age-encryption` alone.
 *
 * Both classes are pure: bytes in, bytes out, no I/O. A caller feeds `push()` and ends with `finish()`.
 * Neither ever holds more than one chunk of carried-over input.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, TAG_SIZE } from './constants';
import { TamperedError, TruncatedError } from './errors';

const ALGORITHM = 'chacha20-poly1305';
/** 2^48 chunks of 64 KiB is 16 EiB: far beyond any file, and lets the counter live in a JS number. */
const MAX_CHUNKS = 2 ** 48;

/** Derives the STREAM key from the file key and the payload nonce. */
export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

function chunkNonce(counter: number, last: boolean): Buffer {
  if (counter >= MAX_CHUNKS) throw new RangeError('age STREAM chunk counter overflow');
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Encrypts one chunk into `out` as two buffers, ciphertext and tag (no copy: writev and concat take lists). */
function seal(key: Buffer, counter: number, last: boolean, plain: Buffer, out: Buffer[]): void {
  const cipher = createCipheriv(ALGORITHM, key, chunkNonce(counter, last), { authTagLength: TAG_SIZE });
  const ct = cipher.update(plain);
  cipher.final();
  if (ct.length > 0) out.push(ct);
  out.push(cipher.getAuthTag());
}

/** Decrypts one chunk; returns the plaintext or `null` if authentication fails. Never returns unauthenticated bytes. */
function open(key: Buffer, counter: number, last: boolean, sealed: Buffer): Buffer | null {
  const decipher = createDecipheriv(ALGORITHM, key, chunkNonce(counter, last), { authTagLength: TAG_SIZE });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const plain = decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    decipher.final();
  } catch {
    return null;
  }
  return plain;
}

/** Splits a byte stream into chunks of `size`, always holding back the last (possibly full) chunk. */
abstract class Chunker {
  private readonly carry: Buffer;
  private carryLength = 0;
  protected counter = 0;

  protected constructor(private readonly size: number) {
    this.carry = Buffer.allocUnsafe(size);
  }

  /** Processes every chunk of `data` known not to be the last; keeps the rest for later. */
  protected feed(data: Buffer, onChunk: (chunk: Buffer) => void): void {
    let offset = 0;
    if (this.carryLength > 0) {
      const take = Math.min(this.size - this.carryLength, data.length);
      data.copy(this.carry, this.carryLength, 0, take);
      this.carryLength += take;
      offset = take;
      // The carried chunk is final unless more bytes follow it.
      if (offset === data.length) return;
      onChunk(this.carry);
      this.carryLength = 0;
    }
    while (data.length - offset > this.size) {
      onChunk(data.subarray(offset, offset + this.size));
      offset += this.size;
    }
    data.copy(this.carry, 0, offset);
    this.carryLength = data.length - offset;
  }

  /** The held-back tail: the last chunk. */
  protected tail(): Buffer {
    return this.carry.subarray(0, this.carryLength);
  }
}

/** Encrypts a plaintext byte stream into age STREAM chunks. */
export class PayloadSealer extends Chunker {
  private readonly key: Buffer;
  private finished = false;

  /** @param key - the payload key from {@link payloadKey}. */
  constructor(key: Buffer) {
    super(CHUNK_SIZE);
    this.key = key;
  }

  /**
   * Encrypts every chunk of `plain` known not to be the last. Returns ciphertexts and tags as separate buffers
   * (to be written with writev or joined): copying them into one large buffer per call cost ~30% of throughput.
   */
  push(plain: Buffer): Buffer[] {
    if (this.finished) throw new Error('PayloadSealer: push after finish');
    const out: Buffer[] = [];
    this.feed(plain, (chunk) => seal(this.key, this.counter++, false, chunk, out));
    return out;
  }

  /** Encrypts the final chunk (empty only if nothing was pushed). */
  finish(): Buffer {
    if (this.finished) throw new Error('PayloadSealer: finish called twice');
    this.finished = true;
    const out: Buffer[] = [];
    seal(this.key, this.counter++, true, this.tail(), out);
    return Buffer.concat(out);
  }
}

/** Decrypts age STREAM chunks; releases plaintext only after its chunk authenticated. */
export class PayloadOpener extends Chunker {
  private readonly key: Buffer;
  private finished = false;

  /** @param key - the payload key from {@link payloadKey}. */
  constructor(key: Buffer) {
    super(ENCRYPTED_CHUNK_SIZE);
    this.key = key;
  }

  /** Decrypts every complete chunk that is known not to be the last; returns their plaintext, one buffer each. */
  push(sealed: Buffer): Buffer[] {
    if (this.finished) throw new Error('PayloadOpener: push after finish');
    const parts: Buffer[] = [];
    this.feed(sealed, (chunk) => {
      const counter = this.counter++;
      const plain = open(this.key, counter, false, chunk);
      if (plain === null) {
        throw new TamperedError(`payload chunk ${counter} failed authentication`);
      }
      parts.push(plain);
    });
    return parts;
  }

  /** Decrypts the last chunk; throws if the payload was truncated or modified. */
  finish(): Buffer {
    if (this.finished) throw new Error('PayloadOpener: finish called twice');
    this.finished = true;
    const tail = this.tail();
    const counter = this.counter;
    if (tail.length < TAG_SIZE) {
      throw new TruncatedError(
        tail.length === 0 && counter === 0
          ? 'payload is missing (file ends after the nonce)'
          : `payload ends inside chunk ${counter} (${tail.length} bytes, need at least ${TAG_SIZE})`,
      );
    }
    const plain = open(this.key, counter, true, tail);
    if (plain === null) {
      // A full chunk that authenticates as a middle chunk means the chunks after it were cut off.
      if (tail.length === ENCRYPTED_CHUNK_SIZE && open(this.key, counter, false, tail) !== null) {
        throw new TruncatedError(`payload ends after chunk ${counter}; the final chunk is missing`);
      }
      throw new TamperedError(`final payload chunk ${counter} failed authentication`);
    }
    if (plain.length === 0 && counter > 0) {
      // The spec allows an empty final chunk only for an empty payload (age refuses it too).
      throw new TamperedError('empty final chunk after a full chunk is not valid age STREAM');
    }
    return plain;
  }
}
