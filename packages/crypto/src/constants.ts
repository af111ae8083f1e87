/**
 * Constants of the age v1 format (https://age-encryption.org/v1).
 */

/** First line of every binary age file, newline included. */
export const AGE_HEADER_PREFIX = 'age-encryption.org/v1\n';

/** First line of the ASCII-armored (PEM-like) form of an age file. */
export const AGE_ARMOR_PREFIX = '-----BEGIN AGE ENCRYPTED FILE-----';

/** Plaintext bytes per STREAM chunk (spec: "payload", 64 KiB). */
export const CHUNK_SIZE = 64 * 1024;

/** Poly1305 tag appended to every chunk. */
export const TAG_SIZE = 16;

/** Ciphertext bytes of a full chunk. */
export const ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;

/** The payload nonce written right after the header. */
export const PAYLOAD_NONCE_SIZE = 16;

/** Size of the file key wrapped in each stanza. */
export const FILE_KEY_SIZE = 16;

/**
 * Largest header we buffer before giving up. Real headers are a few hundred bytes per recipient
 * (post-quantum stanzas ~1.6 KB); the limit only stops a stream of garbage from growing memory.
 */
export const MAX_HEADER_SIZE = 1024 * 1024;

/** Default scrypt work factor (log2 N) for passphrase encryption, as the age CLI uses. */
export const DEFAULT_SCRYPT_WORK_FACTOR = 18;

/**
 * Highest scrypt work factor accepted when decrypting, unless the caller sets another (`maxScryptWorkFactor`).
 * The sender chooses the work factor and the receiver pays it before it can tell a wrong passphrase: 2^18 costs
 * 256 MiB and most of a CPU-second, 2^20 1 GiB and several. 18 is what the age CLI (`age -p`), the npm library
 * and {@link DEFAULT_SCRYPT_WORK_FACTOR} write, so every file they make by default opens.
 */
export const DEFAULT_MAX_SCRYPT_WORK_FACTOR = 18;

/**
 * Highest work factor this package runs at all, when encrypting or as a configured cap: the age CLI's own
 * decryption ceiling (filippo.io/age, `ScryptIdentity.maxWorkFactor`, "15s on a modern machine", 4 GiB).
 */
export const SCRYPT_WORK_FACTOR_CEILING = 22;
