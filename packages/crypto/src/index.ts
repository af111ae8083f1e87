/**
 * @proj/crypto: optional file encryption in the age format (https://age-encryption.org/v1).
 *
 * The header (stanzas, file key wrapping, MAC) comes from the npm package `age-encryption`; the payload (STREAM,
 * ChaCha20-Poly1305 in 64 KiB chunks) runs on node:crypto; passphrase scrypt runs on the libuv thread pool.
 * Files written here open with `age -d -i identity.txt file.age`, and files from the age CLI open here.
 */
export {
  AGE_ARMOR_PREFIX,
  AGE_HEADER_PREFIX,
  CHUNK_SIZE,
  DEFAULT_MAX_SCRYPT_WORK_FACTOR,
  DEFAULT_SCRYPT_WORK_FACTOR,
  SCRYPT_WORK_FACTOR_CEILING,
} from './constants';
export { detectAge } from './detect';
export type { AgeFormat } from './detect';
export {
  CryptoError,
  CryptoOptionsError,
  EncryptWorkerError,
  HeaderError,
  KeyFileError,
  KeyFileExistsError,
  NoIdentityMatchError,
  ScryptBusyError,
  SecretFileError,
  TamperedError,
  TruncatedError,
  UnsupportedError,
  WorkFactorError,
} from './errors';
export type { DecryptOptions, EncryptOptions } from './header';
export { createEncryptStream } from './encrypt-stream';
export type { EncryptStreamOptions } from './encrypt-stream';
export { createDecryptStream } from './decrypt-stream';
export type { DecryptStreamOptions } from './decrypt-stream';
export { decryptFile, encryptFile } from './files';
export { ageFileSize, ageKeysMatch, createAgeKeys, encryptWithKeys } from './keyed';
export type { AgeKeys } from './keyed';
export { DEFAULT_BATCH_BYTES, DEFAULT_MAX_BATCHES, encryptFileInWorker } from './worker-encrypter';
export type { EncryptedFileChunks, WorkerEncryptOptions } from './worker-encrypter';
export type { FileOptions } from './files';
export {
  ensureIdentityFile,
  formatIdentityFile,
  generateIdentity,
  parseIdentityFile,
  readIdentityFile,
  recipientOf,
  writeIdentityFile,
} from './keys';
export type { EnsuredIdentity } from './keys';
export { isSecretFileExposed, readSecretFile } from './secrets';
export { SCRYPT_CONCURRENCY, SCRYPT_MAX_WAITING } from './scrypt';
