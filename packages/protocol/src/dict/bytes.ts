/** Byte-level helpers shared by the decoders: the size check that comes first, and strict UTF-8. */
import { DecodeError, DictTooLargeError, ProtocolError } from '../errors';

// fatal: invalid UTF-8 is an error, not U+FFFD. ignoreBOM: a U+FEFF is kept as data, never silently dropped.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Refuses input longer than the limit before any of it is looked at. */
export function checkByteSize(bytes: Uint8Array, maxDictBytes: number): void {
  if (bytes.length > maxDictBytes) throw new DictTooLargeError(bytes.length, maxDictBytes);
}

/** Decodes UTF-8, refusing invalid sequences with ERR_DECODE. */
export function decodeUtf8(bytes: Uint8Array, format: string): string {
  try {
    return utf8.decode(bytes);
  } catch (err) {
    throw new DecodeError(format, 'invalid UTF-8', { cause: err });
  }
}

/** Copies a Node Buffer (possibly a view into a shared pool) into a plain Uint8Array of its own. */
export function toPlainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes);
}

/** Passes coded errors through; anything else a parser threw (SyntaxError, RangeError) becomes ERR_DECODE. */
export function toDecodeError(format: string, err: unknown): Error {
  if (err instanceof ProtocolError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DecodeError(format, message, { cause: err });
}
