/**
 * Wire vectors (docs/PROTOCOL.md §8, spec/vectors/frames and spec/vectors/sessions): committed bytes beside their
 * decoded frames. Encoding the frames must give exactly the committed bytes, and decoding the bytes exactly the
 * frames, whole, byte by byte and split in two at every offset.
 */
import { parseClientMessage, parseServerMessage } from '../../src/wire/envelopes';
import { FrameKind } from '../../src/wire/frame';
import { encodeControlFrame, encodeFrame } from '../../src/wire/frame-encoder';
import { readWireVectors, wireBytes, type Direction, type VectorFrame } from '../spec-vectors';
import { decodePieces, splits } from './helpers';

function encode(expected: VectorFrame): Buffer {
  return expected.kind === FrameKind.Control
    ? encodeControlFrame(expected.message)
    : Buffer.concat(encodeFrame(FrameKind.Data, Buffer.from(expected.payloadHex, 'hex')));
}

function decodeAll(pieces: Buffer[], parse: (payload: Uint8Array) => unknown): VectorFrame[] {
  const { frames, buffered } = decodePieces(pieces);
  expect(buffered).toBe(0);
  return frames.map((f) =>
    f.kind === FrameKind.Data
      ? { kind: 2, payloadHex: f.payload.toString('hex') }
      : { kind: 1, message: parse(f.payload) as Record<string, unknown> },
  );
}

/** The envelope parsers a vector's direction calls for: `both` must parse as either side's. */
function parsersFor(direction: Direction): ((payload: Uint8Array) => unknown)[] {
  if (direction === 'client-to-server') return [parseClientMessage];
  if (direction === 'server-to-client') return [parseServerMessage];
  return [parseClientMessage, parseServerMessage];
}

describe('frame vectors', () => {
  const vectors = readWireVectors('frames');

  test('the vector set is complete', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(17);
  });

  for (const { name, vector } of vectors) {
    test(name, () => {
      expect(vector.vector).toBe('wire');
      expect(typeof vector.hex).toBe('string');
      expect(vector.frames).toHaveLength(1);
      const bytes = wireBytes(vector);
      expect(Buffer.concat(vector.frames.map(encode)).toString('hex')).toBe(bytes.toString('hex'));
      for (const parse of parsersFor(vector.direction)) expect(decodeAll([bytes], parse)).toEqual(vector.frames);
    });
  }
});

describe('session vectors', () => {
  const vectors = readWireVectors('sessions');

  test('both directions are there', () => {
    expect(vectors.map((v) => v.vector.direction).sort()).toEqual(['client-to-server', 'server-to-client']);
  });

  for (const { name, vector } of vectors) {
    test(`${name}: encodes to the committed bytes and decodes back under every split`, () => {
      const bytes = wireBytes(vector);
      // One string per frame: each is exactly that frame's encoding.
      expect(Array.isArray(vector.hex)).toBe(true);
      expect(vector.frames.map((f) => encode(f).toString('hex'))).toEqual(vector.hex);
      const [parse] = parsersFor(vector.direction);
      for (const { label, pieces } of splits(bytes)) {
        expect({ label, frames: decodeAll(pieces, parse as (p: Uint8Array) => unknown) }).toEqual({
          label,
          frames: vector.frames,
        });
      }
    });
  }
});
