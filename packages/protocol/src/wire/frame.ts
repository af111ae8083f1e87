/**
 * Frame layout (docs/PROTOCOL.md §2):
 *
 *   offset 0  u32 big-endian  payload length L (bytes after the 5-byte header)
 *   offset 4  u8              kind: 0x01 control (UTF-8 JSON envelope), 0x02 data (raw bytes)
 *   offset 5  L bytes         payload
 */

/** Frame kinds, as sent in byte 4 of the header. */
export const FrameKind = {
  Control: 0x01,
  Data: 0x02,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Bytes before the payload: the u32 length and the u8 kind. */
export const FRAME_HEADER_BYTES = 5;

/** The largest payload length the u32 header can express. */
export const FRAME_LENGTH_MAX = 0xffff_ffff;

/** One decoded frame. `payload` may share memory with the chunk it came from: copy it to keep it past the chunk. */
export interface Frame {
  kind: FrameKind;
  payload: Buffer;
  /**
   * Only from a decoder with `dataPieces`: this is a piece of a data frame's payload and more pieces of the same
   * frame follow. The last piece (or the only one) has it unset.
   */
  more?: boolean;
}

export function isFrameKind(kind: number): kind is FrameKind {
  return kind === FrameKind.Control || kind === FrameKind.Data;
}
