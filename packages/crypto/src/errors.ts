/**
 * Errors thrown by `@proj/crypto`. Each class carries a stable `code`; callers and tests branch on
 * `err.code` (or `instanceof`), never on the message text. The codes are listed in docs/CRYPTO.md.
 */

/** Base class of every error this package throws on purpose. */
export class CryptoError extends Error {
  /** Stable machine-readable code, e.g. `ERR_AGE_TAMPERED`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** No identity or passphrase given to the decrypter opens the file (wrong key, wrong passphrase). */
export class NoIdentityMatchError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_AGE_NO_IDENTITY_MATCH', message, options);
  }
}

/** Authentication failed: the header MAC or a payload chunk was modified. */
export class TamperedError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_AGE_TAMPERED', message, options);
  }
}

/** The encrypted input ended early (in the header, the nonce, or at a payload chunk boundary). */
export class TruncatedError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_AGE_TRUNCATED', message, options);
  }
}

/** A well-formed age file this package does not open (armored input, plugin-only recipients). */
export class UnsupportedError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_AGE_UNSUPPORTED', message, options);
  }
}

/**
 * A passphrase-encrypted file asks for more scrypt work than the decrypter accepts (`maxScryptWorkFactor`). Thrown
 * before any derivation runs: the sender chose the cost, and one who knows no passphrase must not make us pay it.
 */
export class WorkFactorError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_AGE_WORK_FACTOR', message, options);
  }
}

/**
 * Too many passphrase derivations are already waiting for their turn (see src/scrypt-queue.ts): the file is not
 * opened now. Nothing about the file is wrong; a later try may succeed.
 */
export class ScryptBusyError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_AGE_SCRYPT_BUSY', message, options);
  }
}

/** The input is not an age file or its header is malformed. */
export class HeaderError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_AGE_HEADER', message, options);
  }
}

/** An identity file (or an identity/recipient string) is malformed. */
export class KeyFileError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_KEY_FILE', message, options);
  }
}

/** `writeIdentityFile` refused to overwrite an existing file. */
export class KeyFileExistsError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_KEY_FILE_EXISTS', message, options);
  }
}

/** A secret (passphrase) file is empty, too large, or not text. */
export class SecretFileError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_SECRET_FILE', message, options);
  }
}

/** The options passed to an encrypt/decrypt function are inconsistent (no key, both modes, bad recipient). */
export class CryptoOptionsError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_CRYPTO_OPTIONS', message, options);
  }
}

/**
 * The worker thread that encrypts a file (src/worker-encrypter.ts) ended before the file's end without saying why
 * (a crash, its resource limits, or it could not start). An error the worker reports (a read error) is rethrown
 * as itself instead, with its own `code`.
 */
export class EncryptWorkerError extends CryptoError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_AGE_WORKER', message, options);
  }
}
