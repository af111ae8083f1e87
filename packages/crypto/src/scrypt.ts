/**
 * The age scrypt recipient type (https://age-encryption.org/v1, section "The scrypt recipient type"):
 *
 *   -> scrypt <base64 salt, 16 bytes> <log2 N>
 *   <ChaCha20-Poly1305(key = scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, N, r=8, p=1), nonce = 0, file key)>
 *
 * The npm library derives the key with a synchronous pure-JS scrypt that blocks the event loop for about a second
 * (work factor 18, +256 MiB). Here the key comes from node:crypto's asynchronous scrypt, which runs on the libuv
 * thread pool, so a server keeps serving others meanwhile. At most {@link MAX_CONCURRENT_SCRYPT} derivations run at
 * once, which bounds the extra memory to that many times 128 * N * r bytes.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { Stanza, type Identity, type Recipient } from 'age-encryption';
import { decodeBase64NoPad, encodeBase64NoPad } from './base64';
import { FILE_KEY_SIZE, MAX_SCRYPT_WORK_FACTOR, TAG_SIZE } from './constants';
import { HeaderError, UnsupportedError } from './errors';

const LABEL = Buffer.from('age-encryption.org/v1/scrypt', 'latin1');
const SALT_SIZE = 16;
const ZERO_NONCE = Buffer.alloc(12);
/** Two derivations at work factor 18 need 512 MiB; more would let a burst of requests exhaust memory. */
export const MAX_CONCURRENT_SCRYPT = 2;

let running = 0;
const waiting: Array<() => void> = [];

async function withScryptSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_SCRYPT) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** scrypt(passphrase, label || salt) on the thread pool. */
function deriveKey(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  const r = 8;
  return withScryptSlot(
    () =>
      new Promise<Buffer>((resolve, reject) => {
        scrypt(
          passphrase,
          Buffer.concat([LABEL, salt]),
          32,
          { N, r, p: 1, maxmem: 2 * 128 * N * r },
          (err, key) => (err ? reject(err) : resolve(key)),
        );
      }),
  );
}

function wrap(key: Buffer, fileKey: Uint8Array): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: TAG_SIZE });
  const body = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
  return body;
}

function unwrap(key: Buffer, body: Uint8Array): Buffer | null {
  const decipher = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: TAG_SIZE });
  decipher.setAuthTag(body.subarray(FILE_KEY_SIZE));
  const fileKey = decipher.update(body.subarray(0, FILE_KEY_SIZE));
  try {
    decipher.final();
  } catch {
    return null;
  }
  return fileKey;
}

/** A passphrase recipient for the library's `Encrypter`, deriving off the event loop. */
export class ScryptRecipient implements Recipient {
  constructor(
    private readonly passphrase: string,
    private readonly logN: number,
  ) {}

  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const salt = randomBytes(SALT_SIZE);
    const key = await deriveKey(this.passphrase, salt, this.logN);
    return [new Stanza(['scrypt', encodeBase64NoPad(salt), String(this.logN)], wrap(key, fileKey))];
  }
}

/** A passphrase identity for the library's `Decrypter`, deriving off the event loop. */
export class ScryptIdentity implements Identity {
  constructor(
    private readonly passphrase: string,
    private readonly maxWorkFactor: number = MAX_SCRYPT_WORK_FACTOR,
  ) {}

  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    for (const s of stanzas) {
      if (s.args[0] !== 'scrypt') continue;
      // A passphrase-encrypted file must have exactly one recipient, or the passphrase would not prove authorship.
      if (stanzas.length !== 1) throw new HeaderError('scrypt stanza must be the only stanza in the header');
      const [, saltText, logNText] = s.args;
      if (s.args.length !== 3 || saltText === undefined || logNText === undefined || !/^[1-9][0-9]*$/.test(logNText)) {
        throw new HeaderError(`malformed scrypt stanza: -> ${s.args.join(' ').slice(0, 80)}`);
      }
      const salt = decodeBase64NoPad(saltText);
      if (salt === null || salt.length !== SALT_SIZE) throw new HeaderError('malformed scrypt stanza salt');
      if (s.body.length !== FILE_KEY_SIZE + TAG_SIZE) throw new HeaderError('malformed scrypt stanza body');
      const logN = Number(logNText);
      if (logN > this.maxWorkFactor) {
        throw new UnsupportedError(`scrypt work factor ${logN} is above the limit ${this.maxWorkFactor}`);
      }
      const key = await deriveKey(this.passphrase, salt, logN);
      const fileKey = unwrap(key, s.body);
      if (fileKey !== null) return fileKey;
    }
    return null;
  }
}
