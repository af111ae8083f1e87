/**
 * Wire vectors (docs/PROTOCOL.md §8, spec/vectors/frames and spec/vectors/sessions): committed bytes beside their
 * decoded frames. Encoding the frames must give exactly the committed bytes, and decoding the bytes exactly the
 * frames, whole, byte by byte and split in two at every offset.
 */
import { parseClientMessage, parseServerMessage } from '../../src/wire/envelopes';
import { FrameKind } from '../../src/wire/frame';
import { encodeControlFrame, encodeFrame } from '../../src/wire/frame-encoder';
import { readWireVectors, wireBytes, type Direction, type VectorFrame, type WireVector } from '../spec-vectors';
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

/**
 * The envelope parsers a vector's direction calls for, on a connection that negotiated `capabilities`: `both` must
 * parse as either side's.
 */
function parsersFor(direction: Direction, capabilities: readonly string[] = []): ((payload: Uint8Array) => unknown)[] {
  const options = { capabilities: new Set(capabilities) };
  const client = (payload: Uint8Array): unknown => parseClientMessage(payload, options);
  const server = (payload: Uint8Array): unknown => parseServerMessage(payload, options);
  if (direction === 'client-to-server') return [client];
  if (direction === 'server-to-client') return [server];
  return [client, server];
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

  test('both directions are there, for a version-1 session and for a resumed put', () => {
    expect(vectors.map((v) => [v.name, v.vector.direction])).toEqual([
      ['client-to-server', 'client-to-server'],
      ['resume-client-to-server', 'client-to-server'],
      ['resume-cut-client-to-server', 'client-to-server'],
      ['resume-cut-server-to-client', 'server-to-client'],
      ['resume-server-to-client', 'server-to-client'],
      ['server-to-client', 'server-to-client'],
    ]);
  });

  test('the resume vectors are refused by a connection that did not negotiate resume', () => {
    for (const name of ['resume-client-to-server', 'resume-server-to-client']) {
      const { vector } = vectors.find((v) => v.name === name) as { vector: WireVector };
      const [strict] = parsersFor(vector.direction);
      expect(() => decodeAll([wireBytes(vector)], strict as (p: Uint8Array) => unknown)).toThrow(/resume|sha256/);
    }
  });

  for (const { name, vector } of vectors) {
    test(`${name}: encodes to the committed bytes and decodes back under every split`, () => {
      const bytes = wireBytes(vector);
      // One string per frame: each is exactly that frame's encoding.
      expect(Array.isArray(vector.hex)).toBe(true);
      expect(vector.frames.map((f) => encode(f).toString('hex'))).toEqual(vector.hex);
      const [parse] = parsersFor(vector.direction, vector.capabilities);
      for (const { label, pieces } of splits(bytes)) {
        expect({ label, frames: decodeAll(pieces, parse as (p: Uint8Array) => unknown) }).toEqual({
          label,
          frames: vector.frames,
        });
      }
    });
  }
});
