/**
 * A ProtocolError across a thread or process boundary (the server's dictionary decoder workers): as plain data,
 * and rebuilt as the same class with the same `code` and fields on the other side (docs/PROTOCOL.md §7).
 */
import {
  AbortedError,
  AuthError,
  BadMessageError,
  ChecksumMismatchError,
  ConnectError,
  ConnectionClosedError,
  DecodeError,
  DictInvalidError,
  DictTooDeepError,
  DictTooLargeError,
  EncryptionMismatchError,
  FileTooLargeError,
  FormatUnsupportedError,
  FrameKindError,
  FrameTooLargeError,
  FrameTruncatedError,
  IdInvalidError,
  InternalError,
  NameInvalidError,
  OffsetError,
  ProtocolError,
  ReceiptMismatchError,
  RejectedError,
  ShuttingDownError,
  SizeMismatchError,
  StorageError,
  TimeoutError,
  TooManyConnectionsError,
  TooSlowError,
  UnexpectedMessageError,
  UnsafeIntegerError,
  VersionError,
  XmlForbiddenError,
} from './errors';

/**
 * A ProtocolError as plain data. A structured clone (postMessage) keeps only an Error's message, losing its class
 * and `code`; this keeps what the error is.
 */
export interface ProtocolErrorData {
  code: string;
  message: string;
  /** The subclass's own fields (for example `limit`), when they are plain values or lists of them. */
  fields: Record<string, ErrorField>;
}

type Plain = string | number | boolean;
type ErrorField = Plain | Plain[];

const isPlain = (v: unknown): v is Plain => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Any ProtocolError subclass, whatever its constructor takes. */
type ProtocolErrorClass = abstract new (...args: never[]) => ProtocolError;

/** The class of each code that has one. RemoteError is left out: its code is whatever the peer sent. */
const CLASS_BY_CODE: ReadonlyMap<string, ProtocolErrorClass> = new Map<string, ProtocolErrorClass>([
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
]);

/** What `reviveProtocolError` needs to rebuild `err` on the other side of a postMessage. */
export function protocolErrorData(err: ProtocolError): ProtocolErrorData {
  const fields: Record<string, ErrorField> = {};
  for (const [key, value] of Object.entries(err)) {
    if (key === 'code' || key === 'name') continue;
    if (isPlain(value)) fields[key] = value;
    else if (Array.isArray(value) && value.every(isPlain)) fields[key] = [...value];
  }
  return { code: err.code, message: err.message, fields };
}

/**
 * Rebuilds the error `protocolErrorData` described: an instance of the subclass that has its code (a plain
 * ProtocolError for a code without one), with the same message and fields. The subclass's constructor is not run,
 * since each takes different arguments; the message is the one already built.
 */
export function reviveProtocolError(data: ProtocolErrorData): ProtocolError {
  const cls = CLASS_BY_CODE.get(data.code) ?? ProtocolError;
  const err = Reflect.construct(ProtocolError, [data.code, data.message], cls) as ProtocolError;
  return Object.assign(err, data.fields);
}
