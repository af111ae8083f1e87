/**
 * Golden vectors (docs/PROTOCOL.md §8): committed bytes beside their decoded values. Encoding a value must give
 * exactly the committed bytes, and decoding the bytes exactly the value.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseClientMessage, parseServerMessage } from '../../src/wire/envelopes';
import { FrameKind } from '../../src/wire/frame';
import { encodeControlFrame, encodeFrame } from '../../src/wire/frame-encoder';
import { decodePieces, splits } from './helpers';

type Expected = { kind: 1; message: Record<string, unknown> } | { kind: 2; payloadHex: string };

const dir = join(__dirname, '..', '..', '..', '..', 'spec', 'vectors');
const readHex = (path: string): Buffer => Buffer.from(readFileSync(path, 'utf8').replace(/\s+/g, ''), 'hex');
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

const SERVER_TYPES = new Set(['welcome', 'ready', 'receipt', 'error', 'pong']);

function encode(expected: Expected): Buffer {
  return expected.kind === FrameKind.Control
    ? encodeControlFrame(expected.message)
    : Buffer.concat(encodeFrame(FrameKind.Data, Buffer.from(expected.payloadHex, 'hex')));
}

function decodeAll(pieces: Buffer[], side: 'client' | 'server'): Expected[] {
  const { frames, buffered } = decodePieces(pieces);
  expect(buffered).toBe(0);
  return frames.map((f) =>
    f.kind === FrameKind.Data
      ? { kind: 2, payloadHex: f.payload.toString('hex') }
      : { kind: 1, message: (side === 'server' ? parseServerMessage : parseClientMessage)(f.payload) },
  );
}

describe('frame vectors', () => {
  const names = readdirSync(join(dir, 'frames'))
    .filter((f) => f.endsWith('.hex'))
    .map((f) => f.slice(0, -4));

  test('the vector set is complete', () => {
    expect(names.length).toBeGreaterThanOrEqual(17);
  });

  for (const name of names) {
    test(name, () => {
      const bytes = readHex(join(dir, 'frames', `${name}.hex`));
      const expected = readJson<Expected>(join(dir, 'frames', `${name}.json`));
      expect(encode(expected).toString('hex')).toBe(bytes.toString('hex'));
      const side = expected.kind === 1 && SERVER_TYPES.has(String(expected.message.type)) ? 'server' : 'client';
      expect(decodeAll([bytes], side)).toEqual([expected]);
    });
  }
});

describe('session vectors', () => {
  for (const [name, side] of [
    ['client-to-server', 'client'],
    ['server-to-client', 'server'],
  ] as const) {
    test(`${name}: encodes to the committed bytes and decodes back under every split`, () => {
      const bytes = readHex(join(dir, 'sessions', `${name}.hex`));
      const expected = readJson<Expected[]>(join(dir, 'sessions', `${name}.json`));
      expect(Buffer.concat(expected.map(encode)).toString('hex')).toBe(bytes.toString('hex'));
      for (const { label, pieces } of splits(bytes)) {
        expect({ label, frames: decodeAll(pieces, side) }).toEqual({ label, frames: expected });
      }
    });
  }
});
