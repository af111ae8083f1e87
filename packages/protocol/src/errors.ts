/**
 * Every failure the contract knows, one class each, with a stable `code`.
 *
 * Code that handles errors switches on `err.code`, never on the message text. The same codes travel on the
 * wire in `error` envelopes (docs/PROTOCOL.md, "Error codes"), so a client sees the server's reason as the
 * same code a local check would have raised.
 */

/**
 * Base class of every error raised by `@proj/protocol`.
 *
 * `instanceof` a subclass is true for a local error of that class and for the server's `error` envelope with the
 * same code (a `RemoteError`): `err instanceof AuthError` holds for the server's ERR_AUTH too, and
 * `err instanceof RemoteError` tells the two apart.
 */
export class ProtocolError extends Error {
  /**
   * Stable, machine-readable reason, for example `ERR_FRAME_TOO_LARGE`: one of `ErrorCode`. A newer server may
   * send a code this version does not list; it arrives as it is, in a `RemoteError`.
   */
  readonly code: ErrorCode;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code as ErrorCode;
    this.name = new.target.name;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the subclass `instanceof` was asked about (AuthError, ...), not ProtocolError.
    // biome-ignore lint/complexity/noThisInStatic: see above
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    // A remote error is an instance of the class its code belongs to (see CLASS_CODES at the end).
    // biome-ignore lint/complexity/noThisInStatic: see above
    const code = CLASS_CODES.get(this);
    return (
      code !== undefined &&
      Function.prototype[Symbol.hasInstance].call(RemoteError, value) &&
      (value as RemoteError).code === code
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Framing (docs/PROTOCOL.md §2)

/** A frame header declares a payload longer than the receiver's limit. Checked before anything is buffered. */
export class FrameTooLargeError extends ProtocolError {
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super('ERR_FRAME_TOO_LARGE', `frame payload of ${length} bytes exceeds the limit of ${limit} bytes`);
  }
}

/** A frame header names a kind this version does not define. */
export class FrameKindError extends ProtocolError {
  constructor(readonly kind: number) {
    super('ERR_FRAME_KIND', `unknown frame kind 0x${kind.toString(16).padStart(2, '0')}; expected 0x01 or 0x02`);
  }
}

/** The byte stream ended inside a frame. */
export class FrameTruncatedError extends ProtocolError {
  constructor(readonly buffered: number) {
    super('ERR_FRAME_TRUNCATED', `stream ended inside a frame with ${buffered} bytes of it received`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Envelopes and session order (docs/PROTOCOL.md §3, §4)

/** A control frame is not UTF-8 JSON, or does not match any envelope schema. */
export class BadMessageError extends ProtocolError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_BAD_MESSAGE', message, options);
  }
}

/** A valid envelope or data frame arrived where the session does not allow it. */
export class UnexpectedMessageError extends ProtocolError {
  constructor(
    readonly got: string,
    readonly expected: string,
  ) {
    super('ERR_UNEXPECTED_MESSAGE', `unexpected ${got}; expected ${expected}`);
  }
}

/** The peer speaks a protocol version this side does not. */
export class VersionError extends ProtocolError {
  constructor(
    readonly got: number,
    readonly supported: readonly number[],
  ) {
    super('ERR_VERSION', `protocol version ${got} is not supported; supported: ${supported.join(', ')}`);
  }
}

/** The hello carried no token, or the wrong one, while the server requires one. */
export class AuthError extends ProtocolError {
  constructor(message = 'authentication failed: a valid token is required') {
    super('ERR_AUTH', message);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Dictionaries (docs/PROTOCOL.md §5)

/** A dictionary is not a JSON-compatible value tree (for example a NaN, a function, or a non-object root). */
export class DictInvalidError extends ProtocolError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_DICT_INVALID', message, options);
  }
}

/** A dictionary nests deeper than the limit. */
export class DictTooDeepError extends ProtocolError {
  constructor(readonly limit: number) {
    super('ERR_DICT_TOO_DEEP', `dictionary nests deeper than the limit of ${limit} levels`);
  }
}

/** A dictionary, encoded or as a value tree, is larger than the limit. */
export class DictTooLargeError extends ProtocolError {
  constructor(
    readonly size: number,
    readonly limit: number,
    readonly unit: 'bytes' | 'nodes' = 'bytes',
  ) {
    super('ERR_DICT_TOO_LARGE', `dictionary of ${size} ${unit} exceeds the limit of ${limit} ${unit}`);
  }
}

/** A format name that is not one of `json`, `xml`, `protobuf`. */
export class FormatUnsupportedError extends ProtocolError {
  constructor(readonly format: string) {
    super(
      'ERR_FORMAT_UNSUPPORTED',
      `unsupported dictionary format ${JSON.stringify(format)}; expected json, xml or protobuf`,
    );
  }
}

/** Bytes that do not decode in the declared format (bad JSON, malformed XML, garbage protobuf). */
export class DecodeError extends ProtocolError {
  constructor(
    readonly format: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super('ERR_DECODE', `${format}: ${message}`, options);
  }
}

/** XML with a DOCTYPE, an entity declaration or a processing instruction: refused before parsing. */
export class XmlForbiddenError extends ProtocolError {
  constructor(readonly construct: string) {
    super('ERR_XML_FORBIDDEN', `XML ${construct} is not allowed (no DTDs, no entities)`);
  }
}

/** An integer that `google.protobuf.Struct` (a double) cannot carry exactly: refused, never rounded. */
export class UnsafeIntegerError extends ProtocolError {
  constructor(
    readonly path: string,
    readonly value: number,
  ) {
    super(
      'ERR_UNSAFE_INTEGER',
      `number at ${path} is an integer beyond 2^53 (${value}); the binary format cannot carry it exactly`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Puts and files (docs/PROTOCOL.md §4)

/** A put id that is not 1-128 characters of `[A-Za-z0-9._:-]` starting with a letter or digit. */
export class IdInvalidError extends ProtocolError {
  constructor(readonly id: string) {
    super('ERR_ID_INVALID', `put id ${JSON.stringify(id.slice(0, 40))} is not valid`);
  }
}

/** A file name the server cannot turn into a safe stored name (empty after cleaning, or too long as sent). */
export class NameInvalidError extends ProtocolError {
  constructor(message: string) {
    super('ERR_NAME_INVALID', message);
  }
}

/** A file is, or is declared to be, larger than the limit. */
export class FileTooLargeError extends ProtocolError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super('ERR_FILE_TOO_LARGE', `file of ${size} bytes exceeds the limit of ${limit} bytes`);
  }
}

/** The bytes received do not add up to the declared count. */
export class SizeMismatchError extends ProtocolError {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super('ERR_SIZE_MISMATCH', `declared ${expected} bytes, received ${actual}`);
  }
}

/** The SHA-256 of the bytes received is not the one the sender declared. */
export class ChecksumMismatchError extends ProtocolError {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super('ERR_CHECKSUM_MISMATCH', `declared sha256 ${expected}, computed ${actual}`);
  }
}

/**
 * A file put declared `encryption: "age"` and its bytes are not an age file (docs/PROTOCOL.md §4): the client
 * believes it sent ciphertext, so the server stores nothing rather than keep (and show) what may be plaintext.
 */
export class EncryptionMismatchError extends ProtocolError {
  constructor() {
    super('ERR_ENCRYPTION_MISMATCH', 'the file was declared age-encrypted but its bytes are not an age file');
  }
}

/** A `put_file.offset` other than 0: a put resumes by asking with `resume` (docs/PROTOCOL.md §4, "Resuming"). */
export class OffsetError extends ProtocolError {
  constructor(readonly offset: number) {
    super('ERR_OFFSET', `cannot resume at offset ${offset}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Server-side refusals that a client receives as codes

/** The server holds as many connections as it allows. */
export class TooManyConnectionsError extends ProtocolError {
  constructor(readonly limit: number) {
    super('ERR_TOO_MANY_CONNECTIONS', `the server holds its limit of ${limit} connections`);
  }
}

/** A peer stayed silent longer than the handshake or idle timeout. */
export class TimeoutError extends ProtocolError {
  constructor(
    readonly phase: 'handshake' | 'idle' | 'approval' | 'response',
    readonly ms: number,
  ) {
    super('ERR_TIMEOUT', `${phase} timeout after ${ms} ms`);
  }
}

/** A client sent a frame or a put's body slower than the server's minimum transfer rate. */
export class TooSlowError extends ProtocolError {
  constructor(
    readonly minBytesPerSecond: number,
    readonly graceMs: number,
  ) {
    super('ERR_TOO_SLOW', `transfer slower than the minimum of ${minBytesPerSecond} bytes/s (over ${graceMs} ms)`);
  }
}

/** The server's operator rejected the item, or did not answer in time. */
export class RejectedError extends ProtocolError {
  constructor(message = 'rejected by the server operator') {
    super('ERR_REJECTED', message);
  }
}

/** The server could not keep the item (disk full, permissions). Nothing was stored; the put may be retried. */
export class StorageError extends ProtocolError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_STORAGE', message, options);
  }
}

/** The server is shutting down and takes no new puts. */
export class ShuttingDownError extends ProtocolError {
  constructor() {
    super('ERR_SHUTTING_DOWN', 'the server is shutting down');
  }
}

/** A failure the receiver did not foresee. Its details stay in the server's log. */
export class InternalError extends ProtocolError {
  constructor(message = 'internal error', options?: ErrorOptions) {
    super('ERR_INTERNAL', message, options);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Client side

/** Nobody listens at the address, or the connection could not be made. */
export class ConnectError extends ProtocolError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_CONNECT', message, options);
  }
}

/** The connection closed before the answer the client waited for. */
export class ConnectionClosedError extends ProtocolError {
  constructor(message = 'connection closed before the server answered', options?: ErrorOptions) {
    super('ERR_CONNECTION_CLOSED', message, options);
  }
}

/** A receipt that does not match what the client sent (size or checksum). */
export class ReceiptMismatchError extends ProtocolError {
  constructor(message: string) {
    super('ERR_RECEIPT_MISMATCH', message);
  }
}

/**
 * An `error` envelope from the peer. Its `code` is the peer's code (for example `ERR_DICT_TOO_DEEP`), so a
 * caller handles a remote refusal and the same local failure alike; `remote` tells them apart.
 */
export class RemoteError extends ProtocolError {
  readonly remote = true;
  constructor(
    code: string,
    message: string,
    readonly id?: string,
    readonly fatal = false,
  ) {
    super(code, message);
  }
}

/** The server's ERR_VERSION: it does not speak the version the client asked for. */
export class RemoteVersionError extends RemoteError {
  /** The versions the server speaks (the envelope's `supported`); empty when it sent none (servers before the list). */
  readonly supported: readonly number[];
  constructor(message: string, supported: readonly number[], id?: string, fatal = true) {
    super('ERR_VERSION', message, id, fatal);
    this.supported = supported;
  }
}

/** A call given up because its `AbortSignal` fired (the client's own; never on the wire). */
export class AbortedError extends ProtocolError {
  constructor(options?: ErrorOptions) {
    super('ERR_ABORTED', 'aborted', options);
  }
}

/** True when `err` is a ProtocolError, optionally with the given code. */
export function isProtocolError(err: unknown, code?: ErrorCode): err is ProtocolError {
  return err instanceof ProtocolError && (code === undefined || err.code === code);
}

/** Every code of this version, each with its class (docs/PROTOCOL.md §7; the last five are the client's own). */
const CODES = [
  ['ERR_FRAME_TOO_LARGE', FrameTooLargeError],
  ['ERR_FRAME_KIND', FrameKindError],
  ['ERR_FRAME_TRUNCATED', FrameTruncatedError],
  ['ERR_BAD_MESSAGE', BadMessageError],
  ['ERR_UNEXPECTED_MESSAGE', UnexpectedMessageError],
  ['ERR_VERSION', VersionError],
  ['ERR_AUTH', AuthError],
  ['ERR_DICT_INVALID', DictInvalidError],
  ['ERR_DICT_TOO_DEEP', DictTooDeepError],
  ['ERR_DICT_TOO_LARGE', DictTooLargeError],
  ['ERR_FORMAT_UNSUPPORTED', FormatUnsupportedError],
  ['ERR_DECODE', DecodeError],
  ['ERR_XML_FORBIDDEN', XmlForbiddenError],
  ['ERR_UNSAFE_INTEGER', UnsafeIntegerError],
  ['ERR_ID_INVALID', IdInvalidError],
  ['ERR_NAME_INVALID', NameInvalidError],
  ['ERR_FILE_TOO_LARGE', FileTooLargeError],
  ['ERR_SIZE_MISMATCH', SizeMismatchError],
  ['ERR_CHECKSUM_MISMATCH', ChecksumMismatchError],
  ['ERR_ENCRYPTION_MISMATCH', EncryptionMismatchError],
  ['ERR_OFFSET', OffsetError],
  ['ERR_TOO_MANY_CONNECTIONS', TooManyConnectionsError],
  ['ERR_TIMEOUT', TimeoutError],
  ['ERR_TOO_SLOW', TooSlowError],
  ['ERR_REJECTED', RejectedError],
  ['ERR_STORAGE', StorageError],
  ['ERR_SHUTTING_DOWN', ShuttingDownError],
  ['ERR_INTERNAL', InternalError],
  ['ERR_CONNECT', ConnectError],
  ['ERR_CONNECTION_CLOSED', ConnectionClosedError],
  ['ERR_RECEIPT_MISMATCH', ReceiptMismatchError],
  ['ERR_ABORTED', AbortedError],
] as const;

/** The stable codes of this version's errors, as a union: `switch (err.code)` is checked by the compiler. */
export type ErrorCode = (typeof CODES)[number][0];

const CLASS_CODES: ReadonlyMap<unknown, ErrorCode> = new Map(CODES.map(([code, cls]) => [cls, code]));

/** The class of each code (RemoteError has none of its own: its code is whatever the peer sent). */
export const CLASS_BY_CODE: ReadonlyMap<string, abstract new (...args: never[]) => ProtocolError> = new Map(
  CODES.map(([code, cls]): [string, abstract new (...args: never[]) => ProtocolError] => [code, cls]),
);
