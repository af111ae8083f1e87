/**
 * How the command line names an encryption. The encrypting itself is the library's (`sendFile` with `encrypt`):
 * a repeatable age encryption, so an encrypted send resumes like a plain one (docs/CRYPTO.md).
 */

export type EncryptMode =
  | { kind: 'recipients'; recipients: readonly string[] }
  | { kind: 'passphrase'; passphrase: string };

/** Options for tests only: a low scrypt work factor keeps passphrase tests fast. */
export interface EncryptTuning {
  scryptWorkFactor?: number;
}

/** A recipient as age writes it: `age1` and Bech32 characters. The crypto package checks it fully. */
export function looksLikeRecipient(text: string): boolean {
  return /^age1[02-9ac-hj-np-z]{50,}$/.test(text);
}
