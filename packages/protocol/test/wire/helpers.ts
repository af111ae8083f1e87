import type { Frame } from '../../src/wire/frame';
import { FrameDecoder } from '../../src/wire/frame-decoder';

/** Decodes `bytes` fed as the given pieces; returns the frames and what is left buffered. */
export function decodePieces(pieces: Uint8Array[], maxFrameBytes = 1 << 20): { frames: Frame[]; buffered: number } {
  const decoder = new FrameDecoder({ maxFrameBytes });
  const frames: Frame[] = [];
  for (const piece of pieces) frames.push(...decoder.push(piece));
  // Copy payloads: they may share memory with the pieces.
  return { frames: frames.map((f) => ({ kind: f.kind, payload: Buffer.from(f.payload) })), buffered: decoder.buffered };
}

/** Every way the decoder must see `bytes`: whole, byte by byte, and split in two at every offset. */
export function* splits(bytes: Buffer): Generator<{ label: string; pieces: Buffer[] }> {
  yield { label: 'whole', pieces: [bytes] };
  yield { label: 'byte by byte', pieces: [...bytes].map((b) => Buffer.from([b])) };
  for (let i = 0; i <= bytes.length; i++) {
    yield { label: `split at ${i}`, pieces: [bytes.subarray(0, i), bytes.subarray(i)] };
  }
}
