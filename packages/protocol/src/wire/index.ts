/**
 * `@proj/protocol/wire`: the wire itself, for code that reads or writes frames without the client (the server, a
 * test speaking raw bytes, a port to another language checked against the golden vectors). Every public name is
 * listed here.
 *
 * The envelopes' zod schemas stay inside the package, but for `putIdSchema` (a client checks a put id it was
 * given before sending it): `parseClientMessage` and `parseServerMessage` are the way to check an envelope.
 */

// Frames (docs/PROTOCOL.md §2)
export { FrameKind, FRAME_HEADER_BYTES, FRAME_LENGTH_MAX, isFrameKind } from './frame';
export type { Frame } from './frame';
export { FrameDecoder } from './frame-decoder';
export type { FrameDecoderOptions } from './frame-decoder';
export { encodeFrame, encodeFrameHeader, encodeControlFrame } from './frame-encoder';
export { FrameWriter } from './frame-writer';

// Envelopes (docs/PROTOCOL.md §3)
export { parseClientMessage, parseFirstClientMessage, parseServerMessage, putIdSchema } from './envelopes';
export { errorEnvelope } from './error-envelope';
export type {
  ServerMessageOptions,
  NegotiatedOptions,
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
} from './envelopes';

// Capabilities (docs/PROTOCOL.md §4)
export {
  CAPABILITY_NAME_PATTERN,
  MAX_CAPABILITIES,
  MAX_CAPABILITY_CHARS,
  RESUME_CAPABILITY,
  isCapabilityName,
  negotiate,
} from './capabilities';
