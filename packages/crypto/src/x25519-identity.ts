/**
 * Native X25519 age identities (`AGE-SECRET-KEY-1…`) without age-encryption (./age-library.ts): generated, checked
 * and turned into their recipient (`age1…`) with node:crypto's X25519 and the same bech32 codec (@scure/base) and
 * rules as age-encryption 0.3 (recipients.js: `generateX25519Identity`, `identityToRecipient`, `X25519Identity`).
 * A server needs only this at start-up. Anything else (post-quantum identities, strings these rules refuse) goes to
 * age-encryption itself, so what is accepted and refused does not change.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { bech32 } from '@scure/base';

const IDENTITY_PREFIX = 'AGE-SECRET-KEY-';
/** PKCS #8 DER of an X25519 private key (RFC 8410), up to its 32-byte scalar. */
const PKCS8_X25519_HEAD = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** SPKI DER of an X25519 public key is this long; the key is its last 32 bytes. */
const SPKI_X25519_BYTES = 44;

/** A new X25519 identity, as age-encryption's `generateX25519Identity` makes it. */
export function newX25519Identity(): string {
  return bech32.encodeFromBytes(IDENTITY_PREFIX, randomBytes(32)).toUpperCase();
}

/**
 * The 32-byte scalar of a native X25519 identity, by age-encryption's rules (`X25519Identity`); undefined when the
 * string does not follow them (a post-quantum identity, a bad checksum…): the caller asks age-encryption then.
 */
export function x25519Scalar(identity: string): Uint8Array | undefined {
  if (!identity.startsWith(`${IDENTITY_PREFIX}1`)) return undefined;
  let decoded: { prefix: string; bytes: Uint8Array };
  try {
    decoded = bech32.decodeToBytes(identity);
  } catch {
    return undefined;
  }
  if (decoded.prefix.toUpperCase() !== IDENTITY_PREFIX || decoded.bytes.length !== 32) return undefined;
  return decoded.bytes;
}

/** The recipient (`age1…`) of an X25519 scalar: its public key (RFC 7748, clamped as age does), bech32-encoded. */
export function x25519Recipient(scalar: Uint8Array): string {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_HEAD, scalar]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (spki.length !== SPKI_X25519_BYTES)
    throw new Error(`unexpected X25519 public key encoding (${spki.length} bytes)`);
  return bech32.encodeFromBytes('age', spki.subarray(SPKI_X25519_BYTES - 32));
}
