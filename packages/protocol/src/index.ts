/**
 * `@proj/protocol`: the typed client and what a program using it handles: the error classes, the constants, and
 * the types of what the client takes and gives back. Every public name is listed here; nothing else is part of
 * the API.
 *
 * Two more entries hold the rest of the contract:
 * - `@proj/protocol/wire` (./wire/index.ts): frames, their decoder and encoders, envelope parsing and types, for
 *   code that speaks the wire itself (the server, raw-frame tests);
 * - `@proj/protocol/dict` (./dict/index.ts): the dictionary model and its JSON, XML and binary codecs.
 * The types a client user meets in the client's signatures (`Receipt`, `Welcome`, `Dict`, ...) are also here, so
 * that using the client takes one import; they are the same types as in their home entry.
 */

// Client (docs/PROTOCOL.md §4, docs/CLIENT.md "The library"): `connect` and types only
export { connect } from './client/client';
export { ENCRYPT_IN_WORKER_FROM_BYTES } from './client/file-source';
export { isConnectionFailure } from './client/retry';
export type {
  ByteSource,
  Client,
  ClientEvents,
  CloseReason,
  ConnectOptions,
  DictLike,
  DictValueLike,
  NotArray,
  EncryptionKeys,
  EncryptOption,
  Progress,
  ResumeEvent,
  RestartEvent,
  RetryEvent,
  RetryOptions,
  SendDictOptions,
  SendFileOptions,
  SendOptions,
  SendStreamOptions,
  SentDigest,
} from './client/types';

// What the client takes and gives back: envelopes (docs/PROTOCOL.md §3) and dictionaries (§5)
export type { Receipt, Welcome, Encryption, WireLimits, Notice } from './wire/envelopes';
export { NOTICE_PENDING_APPROVAL, PENDING_NOTICE_CAPABILITY } from './wire/notices';
export type { Dict, DictValue, DictFormat } from './dict/index';

// Limits and constants (docs/PROTOCOL.md §6)
export { PROTOCOL_VERSION, SUPPORTED_VERSIONS, DEFAULT_PORT, DEFAULT_LIMITS, DEFAULT_CHUNK_BYTES } from './limits';
export type { Limits } from './limits';

// Errors (docs/PROTOCOL.md §7)
export {
  ProtocolError,
  FrameTooLargeError,
  FrameKindError,
  FrameTruncatedError,
  BadMessageError,
  UnexpectedMessageError,
  VersionError,
  AuthError,
  DictInvalidError,
  DictTooDeepError,
  DictTooLargeError,
  FormatUnsupportedError,
  DecodeError,
  XmlForbiddenError,
  UnsafeIntegerError,
  IdInvalidError,
  NameInvalidError,
  FileTooLargeError,
  SizeMismatchError,
  ChecksumMismatchError,
  EncryptionMismatchError,
  OffsetError,
  TooManyConnectionsError,
  TimeoutError,
  TooSlowError,
  RejectedError,
  StorageError,
  ShuttingDownError,
  InternalError,
  ConnectError,
  ConnectionClosedError,
  ReceiptMismatchError,
  RemoteError,
  RemoteVersionError,
  AbortedError,
  isProtocolError,
} from './errors';
export type { ErrorCode } from './errors';
export { protocolErrorData, reviveProtocolError } from './error-data';
export type { ProtocolErrorData } from './error-data';
