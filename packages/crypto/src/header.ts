/**
 * The age header (https://age-encryption.org/v1, section "Header"): version line, recipient stanzas, and
 * `--- <base64 HMAC-SHA256(HKDF(file key, info "header"), header up to "---")>`.
 *
 * The npm library `age-encryption` owns the header: it encodes stanzas, wraps the file key to X25519 recipients
 * and computes/verifies the MAC. It does not hand out the file key on encryption, so a recipient that wraps
 * nothing and only records the key is added next to the real ones (the `Recipient` interface is given the file
 * key by design). The library then encrypts an empty payload; its output is header || nonce (16) || empty final
 * chunk (16), and the header is everything but the last 32 bytes. On decryption, `Decrypter.decryptHeader` is the
 * library's public way to get the file key from a detached header. The payload is ours (see ./payload.ts).
 */
import type { Decrypter, Encrypter, Identity, Recipient, Stanza } from 'age-encryption';
import { ageLibrary } from './age-library';
import {
  AGE_ARMOR_PREFIX,
  AGE_HEADER_PREFIX,
  DEFAULT_MAX_SCRYPT_WORK_FACTOR,
  DEFAULT_SCRYPT_WORK_FACTOR,
  FILE_KEY_SIZE,
  MAX_HEADER_SIZE,
  PAYLOAD_NONCE_SIZE,
  SCRYPT_WORK_FACTOR_CEILING,
  TAG_SIZE,
} from './constants';
import { detectAge } from './detect';
import {
  CryptoError,
  CryptoOptionsError,
  HeaderError,
  NoIdentityMatchError,
  TamperedError,
  TruncatedError,
  UnsupportedError,
} from './errors';
import { ScryptIdentity, ScryptRecipient } from './scrypt';

/** How to encrypt: to one or more public recipients, or with one passphrase. */
export interface EncryptOptions {
  /** age recipients (`age1…`). The usual case: the server's public recipient. */
  recipients?: readonly string[];
  /** Passphrase for symmetric encryption; the decrypting side needs the same one. Exclusive with `recipients`. */
  passphrase?: string;
  /** scrypt work factor (log2 N) for `passphrase`, 1..22; default 18 like the age CLI. Lower only in tests. */
  scryptWorkFactor?: number;
}

/** How to decrypt: with identities, a passphrase, or both (each is tried). */
export interface DecryptOptions {
  /** age identities (`AGE-SECRET-KEY-1…`), e.g. from {@link readIdentityFile}. */
  identities?: readonly string[];
  /** Passphrase for passphrase-encrypted files. */
  passphrase?: string;
  /**
   * Refuse scrypt stanzas above this work factor (log2 N), 1..22, before deriving anything: `ERR_AGE_WORK_FACTOR`.
   * Default 18 (what the age CLI and this package write; 256 MiB for the derivation).
   */
  maxScryptWorkFactor?: number;
}

const HEADER_PREFIX = Buffer.from(AGE_HEADER_PREFIX, 'latin1');

/** Header types this package can open. */
const KNOWN_TYPES = new Set(['X25519', 'scrypt', 'mlkem768x25519']);

function checkedEncrypter(opts: EncryptOptions): {
  encrypter: Encrypter;
  passphrase: string | undefined;
  logN: number;
} {
  const recipients = opts.recipients ?? [];
  const passphrase = opts.passphrase;
  if (passphrase !== undefined && recipients.length > 0) {
    throw new CryptoOptionsError('give either recipients or a passphrase, not both');
  }
  if (passphrase === undefined && recipients.length === 0) {
    throw new CryptoOptionsError('no recipient and no passphrase to encrypt with');
  }
  if (passphrase !== undefined && passphrase.length === 0) throw new CryptoOptionsError('the passphrase is empty');
  const logN = opts.scryptWorkFactor ?? DEFAULT_SCRYPT_WORK_FACTOR;
  if (!Number.isInteger(logN) || logN < 1 || logN > SCRYPT_WORK_FACTOR_CEILING) {
    throw new CryptoOptionsError(
      `scryptWorkFactor must be an integer in 1..${SCRYPT_WORK_FACTOR_CEILING}, got ${logN}`,
    );
  }
  const encrypter = new (ageLibrary().Encrypter)();
  for (const r of recipients) {
    try {
      encrypter.addRecipient(r);
    } catch (cause) {
      throw new CryptoOptionsError(`invalid recipient "${String(r).slice(0, 20)}…"`, { cause });
    }
  }
  return { encrypter, passphrase, logN };
}

/** Throws {@link CryptoOptionsError} now rather than when the first byte arrives. */
export function validateEncryptOptions(opts: EncryptOptions): void {
  checkedEncrypter(opts);
}

/** A header ready to be written, and the file key it protects. */
export interface SealedHeader {
  header: Buffer;
  fileKey: Buffer;
}

/** Builds a header for a fresh random file key (X25519 stanzas by the library, scrypt on the thread pool). */
export async function sealHeader(opts: EncryptOptions): Promise<SealedHeader> {
  const { encrypter, passphrase, logN } = checkedEncrypter(opts);
  let fileKey: Buffer | undefined;
  const record = (key: Uint8Array): void => {
    fileKey = Buffer.from(key);
  };
  if (passphrase !== undefined) {
    const scrypt = new ScryptRecipient(passphrase, logN);
    const recorder: Recipient = {
      wrapFileKey: (key) => {
        record(key);
        return scrypt.wrapFileKey(key);
      },
    };
    encrypter.addRecipient(recorder);
  } else {
    encrypter.addRecipient({
      wrapFileKey: (key): Stanza[] => {
        record(key);
        return [];
      },
    });
  }
  const empty = await encrypter.encrypt(new Uint8Array(0));
  const trailer = PAYLOAD_NONCE_SIZE + TAG_SIZE;
  const header = Buffer.from(empty.subarray(0, empty.length - trailer));
  if (
    fileKey === undefined ||
    fileKey.length !== FILE_KEY_SIZE ||
    !header.subarray(0, HEADER_PREFIX.length).equals(HEADER_PREFIX) ||
    header[header.length - 1] !== 0x0a
  ) {
    throw new Error('age-encryption produced an unexpected header (library changed?)');
  }
  return { header, fileKey };
}

function checkedDecrypter(opts: DecryptOptions): Decrypter {
  const identities = opts.identities ?? [];
  if (identities.length === 0 && opts.passphrase === undefined) {
    throw new CryptoOptionsError('no identity and no passphrase to decrypt with');
  }
  const maxWorkFactor = opts.maxScryptWorkFactor ?? DEFAULT_MAX_SCRYPT_WORK_FACTOR;
  if (!Number.isInteger(maxWorkFactor) || maxWorkFactor < 1 || maxWorkFactor > SCRYPT_WORK_FACTOR_CEILING) {
    throw new CryptoOptionsError(
      `maxScryptWorkFactor must be an integer in 1..${SCRYPT_WORK_FACTOR_CEILING}, got ${maxWorkFactor}`,
    );
  }
  const decrypter = new (ageLibrary().Decrypter)();
  for (const id of identities) {
    try {
      decrypter.addIdentity(id);
    } catch (cause) {
      // Never echo secret material into a message.
      throw new CryptoOptionsError('invalid identity (expected AGE-SECRET-KEY-1…)', { cause });
    }
  }
  if (opts.passphrase !== undefined) {
    const identity: Identity = new ScryptIdentity(opts.passphrase, maxWorkFactor);
    decrypter.addIdentity(identity);
  }
  return decrypter;
}

/** Throws {@link CryptoOptionsError} now rather than when the first byte arrives. */
export function validateDecryptOptions(opts: DecryptOptions): void {
  checkedDecrypter(opts);
}

/** The recipient types named in a header's stanzas (`-> TYPE args…`). */
function stanzaTypes(header: Buffer): string[] {
  const types: string[] = [];
  for (const line of header.toString('latin1').split('\n')) {
    if (line.startsWith('-> ')) types.push(line.slice(3).split(' ')[0] ?? '');
  }
  return types;
}

/** Recovers the file key from a complete header (as found by {@link HeaderScanner}). */
export async function openHeader(header: Buffer, opts: DecryptOptions): Promise<Buffer> {
  const decrypter = checkedDecrypter(opts);
  try {
    return Buffer.from(await decrypter.decryptHeader(header));
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    // The library (pinned at 0.3.1) throws plain Errors; these two messages are the only ones that are not
    // "malformed header". test/errors.test.ts pins the mapping so a library upgrade that changes them fails loudly.
    if (message.includes('no identity matched')) {
      const types = stanzaTypes(header);
      if (!types.some((t) => KNOWN_TYPES.has(t))) {
        throw new UnsupportedError(`no supported recipient in the header (types: ${types.join(', ').slice(0, 100)})`, {
          cause: err,
        });
      }
      if (types.includes('scrypt') && opts.passphrase === undefined) {
        throw new NoIdentityMatchError('the file is passphrase-encrypted and no passphrase was given', { cause: err });
      }
      throw new NoIdentityMatchError(
        opts.passphrase !== undefined && types.includes('scrypt')
          ? 'wrong passphrase'
          : "no identity matched any of the file's recipients",
        { cause: err },
      );
    }
    if (message.includes('invalid header HMAC')) throw new TamperedError('header MAC does not match', { cause: err });
    throw new HeaderError(`malformed age header: ${message.slice(0, 100)}`, { cause: err });
  }
}

/**
 * Finds the end of the header in a byte stream: the line that starts with `--- ` (stanza lines start with `-> `
 * and body lines are base64, so the first `\n--- ` is the MAC line). Pure: bytes in, header out.
 */
export class HeaderScanner {
  private buf = Buffer.allocUnsafe(1024);
  private length = 0;
  private scanned = 0;

  /**
   * Adds bytes. Returns the header and the bytes after it once the MAC line is complete, else `null`.
   * Throws {@link HeaderError}/{@link UnsupportedError} as soon as the input cannot be an age file.
   */
  push(data: Buffer): { header: Buffer; rest: Buffer } | null {
    const take = Math.min(data.length, MAX_HEADER_SIZE - this.length);
    if (this.length + take > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(MAX_HEADER_SIZE, Math.max(this.buf.length * 2, this.length + take)));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    data.copy(this.buf, this.length, 0, take);
    this.length += take;
    this.checkPrefix(false);
    const end = this.findEnd();
    if (end >= 0) {
      const header = Buffer.from(this.buf.subarray(0, end));
      const rest = Buffer.concat([this.buf.subarray(end, this.length), data.subarray(take)]);
      return { header, rest };
    }
    if (this.length >= MAX_HEADER_SIZE) throw new HeaderError(`no end of header within ${MAX_HEADER_SIZE} bytes`);
    return null;
  }

  /** Called at end of input when `push` never returned a header. */
  end(): never {
    this.checkPrefix(true);
    throw new TruncatedError(
      this.length === 0 ? 'input is empty' : `input ends inside the age header (${this.length} bytes)`,
    );
  }

  private checkPrefix(final: boolean): void {
    const n = Math.min(this.length, HEADER_PREFIX.length);
    if (this.buf.subarray(0, n).equals(HEADER_PREFIX.subarray(0, n))) return;
    const bytes = this.buf.subarray(0, this.length);
    if (detectAge(bytes) === 'armored') {
      throw new UnsupportedError('armored (PEM) age files are not supported; convert with `age -d` or store binary');
    }
    // Too few bytes yet to tell the armor line from garbage: wait, unless the input has ended.
    const start = bytes
      .subarray(0, 256)
      .toString('latin1')
      .replace(/^[ \t\r\n]+/, '');
    if (!final && this.length < 256 && AGE_ARMOR_PREFIX.startsWith(start)) return;
    throw new HeaderError('not an age file (no "age-encryption.org/v1" header line)');
  }

  private findEnd(): number {
    const from = Math.max(0, this.scanned - 4);
    const view = this.buf.subarray(0, this.length);
    const mac = view.indexOf('\n--- ', from, 'latin1');
    if (mac < 0) {
      this.scanned = this.length;
      return -1;
    }
    const nl = view.indexOf(0x0a, mac + 1);
    if (nl < 0) {
      this.scanned = mac; // rescan from the MAC line next time
      return -1;
    }
    return nl + 1;
  }
}
