/** Canonical unpadded standard base64, the encoding age uses in headers. */

const B64 = /^[A-Za-z0-9+/]*$/;

export function encodeBase64NoPad(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}

/** Decodes unpadded base64; returns `null` unless the text is the canonical encoding of the result. */
export function decodeBase64NoPad(text: string): Buffer | null {
  if (!B64.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64');
  return encodeBase64NoPad(bytes) === text ? bytes : null;
}
