/**
 * The age scrypt recipient type (https://age-encryption.org/v1, section "The scrypt recipient type"):
 *
 *   -> scrypt <base64 salt, 16 bytes> <log2 N>
 *   <ChaCha20-Poly1305(key = scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, N, r=8, p=1), nonce = 0, file key)>
 *
 * The npm library derives the key with a synchronous pure-JS scrypt that blocks the event loop for about a second
 * (work factor 18, +256 MiB). Here the key comes from node:crypto's asynchronous scrypt, which runs on the libuv
 * thread pool, so a server keeps serving others meanwhile.
 *
 * The sender picks the work factor and the receiver pays it before it can tell a wrong passphrase, so a decrypter
 * refuses factors above its cap before deriving anything ({@link WorkFactorError}), derives at most once per
 * file (a scrypt stanza must be the only stanza), and every derivation of the process takes its turn in one
 * {@link SlotQueue}: {@link SCRYPT_CONCURRENCY} at a time, each with `maxmem` set to exactly what it needs, so the
 * extra memory is at most 128 * 2^cap * 8 bytes (256 MiB at the default cap 18). Decryptions that would wait
 * behind {@link SCRYPT_MAX_WAITING} others are refused ({@link ScryptBusyError}); encryptions (work the caller
 * chose) wait their turn.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import type { Identity, Recipient, Stanza } from 'age-encryption';
import { ageLibrary } from './age-library';
import { decodeBase64NoPad, encodeBase64NoPad } from './base64';
import { DEFAULT_MAX_SCRYPT_WORK_FACTOR, FILE_KEY_SIZE, TAG_SIZE } from './constants';
import { HeaderError, ScryptBusyError, WorkFactorError } from './errors';
import { SlotQueue } from './scrypt-queue';

const LABEL = Buffer.from('age-encryption.org/v1/scrypt', 'latin1');
const SALT_SIZE = 16;
const ZERO_NONCE = Buffer.alloc(12);
const R = 8;
const P = 1;

/** Derivations running at once in this process: one keeps the memory bound to a single derivation's. */
export const SCRYPT_CONCURRENCY = 1;
/**
 * Decryptions that may wait for their turn. At work factor 18 each takes about a CPU-second (1.0-1.3 s on the 2-core
 * development machine), so the last in line waits ~9 s, well inside the server's idle timeout; a longer line would
 * only hold hostile work for longer.
 */
export const SCRYPT_MAX_WAITING = 8;

/** The one line every derivation of this process waits in (memory is per process, so is the bound). */
export const scryptQueue = new SlotQueue(SCRYPT_CONCURRENCY, SCRYPT_MAX_WAITING);

/** What OpenSSL's scrypt allocates (B: 128 * r * p, V: 128 * r * (N + 2)); `maxmem` below it fails, above it is slack. */
export function scryptMemory(logN: number): number {
  return 128 * R * (2 ** logN + 2 + P);
}

/** scrypt(passphrase, label || salt) on the thread pool, in turn. `bounded`: refuse rather than queue past the limit. */
function deriveKey(passphrase: string, salt: Buffer, logN: number, bounded: boolean): Promise<Buffer> {
  const derive = (): Promise<Buffer> =>
    new Promise<Buffer>((resolve, reject) => {
      scrypt(
        passphrase,
        Buffer.concat([LABEL, salt]),
        32,
        { N: 2 ** logN, r: R, p: P, maxmem: scryptMemory(logN) },
        (err, key) => (err ? reject(err) : resolve(key)),
      );
    });
  const refuse = (): Error =>
    new ScryptBusyError(`${scryptQueue.waiting} passphrase derivations are already waiting; not opening this file now`);
  return scryptQueue.run(derive, bounded ? refuse : undefined);
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
    const key = await deriveKey(this.passphrase, salt, this.logN, false);
    return [new (ageLibrary().Stanza)(['scrypt', encodeBase64NoPad(salt), String(this.logN)], wrap(key, fileKey))];
  }
}

/** A passphrase identity for the library's `Decrypter`, deriving off the event loop. */
export class ScryptIdentity implements Identity {
  constructor(
    private readonly passphrase: string,
    private readonly maxWorkFactor: number = DEFAULT_MAX_SCRYPT_WORK_FACTOR,
  ) {}

  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    const s = stanzas.find((stanza) => stanza.args[0] === 'scrypt');
    if (s === undefined) return null;
    // A passphrase-encrypted file must have exactly one recipient, or the passphrase would not prove authorship.
    // It also means one derivation per file: a header cannot make us try the passphrase once per stanza.
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
      throw new WorkFactorError(`scrypt work factor ${logNText.slice(0, 20)} is above the limit ${this.maxWorkFactor}`);
    }
    const key = await deriveKey(this.passphrase, salt, logN, true);
    return unwrap(key, s.body);
  }
}
