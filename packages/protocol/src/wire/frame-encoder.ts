/**
 * Frame encoding (docs/PROTOCOL.md §2). A data payload is never copied: the encoder returns the header and the
 * caller's buffer side by side, for a vectored or corked write.
 */
import { FrameTooLargeError } from '../errors';
import { FRAME_HEADER_BYTES, FRAME_LENGTH_MAX, FrameKind } from './frame';

/** The 5-byte header of a frame whose payload is `length` bytes. */
export function encodeFrameHeader(kind: FrameKind, length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > FRAME_LENGTH_MAX) {
    throw new FrameTooLargeError(length, FRAME_LENGTH_MAX);
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(length, 0);
  header[4] = kind;
  return header;
}

/** A frame as `[header, payload]`, sharing the payload's memory. Write both, in order, with one cork. */
export function encodeFrame(kind: FrameKind, payload: Uint8Array, maxFrameBytes = FRAME_LENGTH_MAX): [Buffer, Buffer] {
  if (payload.length > maxFrameBytes) throw new FrameTooLargeError(payload.length, maxFrameBytes);
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  return [encodeFrameHeader(kind, body.length), body];
}

/** A control frame holding `message` as UTF-8 JSON, in one buffer (control messages are small). */
export function encodeControlFrame(message: object, maxFrameBytes = FRAME_LENGTH_MAX): Buffer {
  const json = JSON.stringify(message);
  const length = Buffer.byteLength(json, 'utf8');
  if (length > maxFrameBytes) throw new FrameTooLargeError(length, maxFrameBytes);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame[4] = FrameKind.Control;
  frame.write(json, FRAME_HEADER_BYTES, 'utf8');
  return frame;
}
