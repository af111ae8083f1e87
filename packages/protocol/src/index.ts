/**
 * `@proj/protocol`: the wire contract shared by the server, the client, and any other tool.
 * Every public name is listed here; nothing else is part of the API.
 */

// Framing (docs/PROTOCOL.md §2)
export { FrameKind, FRAME_HEADER_BYTES, FRAME_LENGTH_MAX, isFrameKind } from './wire/frame';
export type { Frame } from './wire/frame';
export { FrameDecoder } from './wire/frame-decoder';
export type { FrameDecoderOptions } from './wire/frame-decoder';
export { encodeFrame, encodeFrameHeader, encodeControlFrame } from './wire/frame-encoder';
export { FrameWriter } from './wire/frame-writer';

// Envelopes (docs/PROTOCOL.md §3)
export {
  putIdSchema,
  sha256Schema,
  dictFormatSchema,
  encryptionSchema,
  limitsSchema,
  helloSchema,
  putDictSchema,
  putFileSchema,
  fileEndSchema,
  cancelSchema,
  pingSchema,
  byeSchema,
  clientMessageSchema,
  welcomeSchema,
  readySchema,
  receiptSchema,
  errorSchema,
  pongSchema,
  serverMessageSchema,
  parseClientMessage,
  parseServerMessage,
} from './wire/envelopes';
export type {
  PutId,
  Encryption,
  WireLimits,
  Hello,
  PutDict,
  PutFile,
  FileEnd,
  Cancel,
  Ping,
  Bye,
  ClientMessage,
  ClientMessageInput,
  Welcome,
  Ready,
  Receipt,
  ErrorMessage,
  Pong,
  ServerMessage,
} from './wire/envelopes';

// Dictionaries (docs/PROTOCOL.md §5)
export {
  DICT_FORMATS,
  DICT_FILE_EXTENSIONS,
  parseDictFormat,
  dictValueSchema,
  dictSchema,
  validateDict,
  encodeDict,
  decodeDict,
  encodeJson,
  decodeJson,
  encodeXml,
  decodeXml,
  encodeProtobuf,
  decodeProtobuf,
} from './dict/index';
export type { Dict, DictValue, DictFormat, DictLimits } from './dict/index';

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
  isProtocolError,
  protocolErrorData,
  reviveProtocolError,
} from './errors';
export type { ProtocolErrorData } from './errors';

// Client (docs/PROTOCOL.md §4, README "Library")
export { connect, Client } from './client/client';
export type { ByteSource, ConnectOptions, SendDictOptions, SendFileOptions, SendStreamOptions, SentDigest, Progress } from './client/client';
