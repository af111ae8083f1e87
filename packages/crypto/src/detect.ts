import { AGE_ARMOR_PREFIX, AGE_HEADER_PREFIX } from './constants';

/** What {@link detectAge} found. */
export type AgeFormat = 'binary' | 'armored';

const BINARY = Buffer.from(AGE_HEADER_PREFIX, 'latin1');
const ARMOR = Buffer.from(AGE_ARMOR_PREFIX, 'latin1');

/**
 * Tells an age file from plain data by its first bytes.
 *
 * @param firstBytes - The start of the file; pass at least 34 bytes (`AGE_ARMOR_PREFIX.length`) for a
 *   definite answer. A shorter prefix returns `null`.
 * @returns `'binary'` for `age-encryption.org/v1\n`, `'armored'` for
 *   `-----BEGIN AGE ENCRYPTED FILE-----` (leading whitespace allowed, as age allows it), else `null`.
 */
export function detectAge(firstBytes: Uint8Array): AgeFormat | null {
  const bytes = Buffer.from(firstBytes.buffer, firstBytes.byteOffset, firstBytes.byteLength);
  if (bytes.length >= BINARY.length && bytes.subarray(0, BINARY.length).equals(BINARY)) return 'binary';
  let i = 0;
  // age's armor reader skips leading whitespace (spaces, tabs, CR, LF).
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0d || bytes[i] === 0x0a)) i++;
  if (bytes.length - i >= ARMOR.length && bytes.subarray(i, i + ARMOR.length).equals(ARMOR)) return 'armored';
  return null;
}
