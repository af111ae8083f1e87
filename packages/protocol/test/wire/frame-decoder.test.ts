import fc from 'fast-check';
import { FrameDecoder } from '../../src/wire/frame-decoder';
import { FrameKind } from '../../src/wire/frame';
import { encodeControlFrame, encodeFrame, encodeFrameHeader } from '../../src/wire/frame-encoder';
import { ProtocolError } from '../../src/errors';
import { codeOf } from '@proj/test-utils';
import { decodePieces, splits } from './helpers';

const bye = Buffer.from('0000000e017b2274797065223a22627965227d', 'hex');

describe('FrameDecoder', () => {
  const fixtures: { name: string; bytes: Buffer; frames: { kind: number; payload: Buffer }[] }[] = [
    { name: 'one control frame', bytes: bye, frames: [{ kind: 1, payload: Buffer.from('{"type":"bye"}') }] },
    {
      name: 'empty data frame',
      bytes: Buffer.from('0000000002', 'hex'),
      frames: [{ kind: 2, payload: Buffer.alloc(0) }],
    },
    {
      name: 'control, data, empty data, control',
      bytes: Buffer.concat([
        bye,
        ...encodeFrame(FrameKind.Data, Buffer.from([0, 1, 2, 255])),
        ...encodeFrame(FrameKind.Data, Buffer.alloc(0)),
        encodeControlFrame({ type: 'ping' }),
      ]),
      frames: [
        { kind: 1, payload: Buffer.from('{"type":"bye"}') },
        { kind: 2, payload: Buffer.from([0, 1, 2, 255]) },
        { kind: 2, payload: Buffer.alloc(0) },
        { kind: 1, payload: Buffer.from('{"type":"ping"}') },
      ],
    },
    {
      name: 'binary payload at the limit',
      bytes: Buffer.concat(encodeFrame(FrameKind.Data, Buffer.alloc(64, 0xab))),
      frames: [{ kind: 2, payload: Buffer.alloc(64, 0xab) }],
    },
  ];

  for (const fixture of fixtures) {
    test(`${fixture.name}: whole, byte by byte, and split at every offset`, () => {
      for (const { label, pieces } of splits(fixture.bytes)) {
        const { frames, buffered } = decodePieces(pieces, 64);
        expect({ label, frames }).toEqual({ label, frames: fixture.frames });
        expect({ label, buffered }).toEqual({ label, buffered: 0 });
      }
    });

    test(`${fixture.name}: leftover bytes of the next frame stay buffered`, () => {
      const tail = bye.subarray(0, 7);
      for (const { label, pieces } of splits(Buffer.concat([fixture.bytes, tail]))) {
        const { frames, buffered } = decodePieces(pieces, 64);
        expect({ label, frames }).toEqual({ label, frames: fixture.frames });
        expect({ label, buffered }).toEqual({ label, buffered: 7 });
      }
    });
  }

  test('a payload inside one chunk is returned without a copy', () => {
    const bytes = Buffer.concat(encodeFrame(FrameKind.Data, Buffer.from('abcdef')));
    const [frame] = new FrameDecoder({ maxFrameBytes: 64 }).push(bytes);
    expect(frame?.payload.buffer).toBe(bytes.buffer);
  });

  test('a declared length over the limit fails at the header, before the payload arrives', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
    const header = encodeFrameHeader(FrameKind.Data, 1025);
    expect(codeOf(() => decoder.push(header))).toBe('ERR_FRAME_TOO_LARGE');
    expect(decoder.buffered).toBe(0);
    // A failed decoder stays failed.
    expect(codeOf(() => decoder.push(bye))).toBe('ERR_FRAME_TOO_LARGE');
  });

  test('the largest u32 length is refused without allocating', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
    expect(codeOf(() => decoder.push(Buffer.from('ffffffff02', 'hex')))).toBe('ERR_FRAME_TOO_LARGE');
  });

  test('exactly the limit is accepted', () => {
    const { frames } = decodePieces([Buffer.concat(encodeFrame(FrameKind.Data, Buffer.alloc(1024)))], 1024);
    expect(frames).toHaveLength(1);
  });

  test('an unknown kind is refused with ERR_FRAME_KIND', () => {
    for (const kind of [0x00, 0x03, 0x7f, 0xff]) {
      const decoder = new FrameDecoder({ maxFrameBytes: 64 });
      expect(codeOf(() => decoder.push(Buffer.from([0, 0, 0, 0, kind])))).toBe('ERR_FRAME_KIND');
    }
  });

  test('a stream that ends inside a frame is ERR_FRAME_TRUNCATED; at a boundary it is fine', () => {
    for (let cut = 1; cut < bye.length; cut++) {
      const decoder = new FrameDecoder({ maxFrameBytes: 64 });
      decoder.push(bye.subarray(0, cut));
      expect({ cut, code: codeOf(() => decoder.end()) }).toEqual({ cut, code: 'ERR_FRAME_TRUNCATED' });
    }
    const decoder = new FrameDecoder({ maxFrameBytes: 64 });
    decoder.push(bye);
    expect(() => decoder.end()).not.toThrow();
    expect(() => new FrameDecoder({ maxFrameBytes: 64 }).end()).not.toThrow();
  });

  test('the limit may change between pushes', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 4 });
    decoder.maxFrameBytes = 64;
    expect(decoder.push(bye)).toHaveLength(1);
  });

  test('encode then decode is the identity for any frames split anywhere (property)', () => {
    const frameArb = fc.record({
      kind: fc.constantFrom(FrameKind.Control, FrameKind.Data),
      payload: fc.uint8Array({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const bytes = Buffer.concat(frames.flatMap((f) => encodeFrame(f.kind, f.payload)));
        const offsets = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const pieces: Buffer[] = [];
        let last = 0;
        for (const o of offsets) {
          pieces.push(bytes.subarray(last, o));
          last = o;
        }
        pieces.push(bytes.subarray(last));
        const out = decodePieces(pieces, 300);
        expect(out.buffered).toBe(0);
        expect(out.frames).toEqual(frames.map((f) => ({ kind: f.kind, payload: Buffer.from(f.payload) })));
      }),
      { numRuns: 500 },
    );
  });

  test('10,000 random byte strings give frames or a coded error, never a crash or a hang', () => {
    let frames = 0;
    let errors = 0;
    fc.assert(
      fc.property(hostileBytes, fc.nat({ max: 256 }), (bytes, cut) => {
        const decoder = new FrameDecoder({ maxFrameBytes: 128 });
        try {
          frames += decoder.push(bytes.subarray(0, cut)).length;
          frames += decoder.push(bytes.subarray(cut)).length;
          decoder.end();
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
          expect(['ERR_FRAME_TOO_LARGE', 'ERR_FRAME_KIND', 'ERR_FRAME_TRUNCATED']).toContain(
            (err as ProtocolError).code,
          );
          errors += 1;
        }
      }),
      { numRuns: 10_000 },
    );
    // Both outcomes were exercised, so the property is not vacuous.
    expect(frames).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
  });
});

/** Random bytes, and random bytes shaped like frames: small lengths, mostly valid kinds, random payloads. */
const hostileBytes = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc
    .array(fc.tuple(fc.nat({ max: 160 }), fc.nat({ max: 3 }), fc.uint8Array({ maxLength: 160 })), { maxLength: 6 })
    .map((parts) =>
      Buffer.concat(
        parts.map(([length, kind, payload]) => {
          const header = Buffer.alloc(5);
          header.writeUInt32BE(length, 0);
          header[4] = kind;
          return Buffer.concat([header, payload]);
        }),
      ),
    ),
);

describe('frame encoder', () => {
  test('encodeFrame shares the payload memory', () => {
    const payload = Buffer.from('payload');
    const [header, body] = encodeFrame(FrameKind.Data, payload);
    expect(body).toBe(payload);
    expect(header.toString('hex')).toBe('0000000702');
  });

  test('a payload over the limit is refused with ERR_FRAME_TOO_LARGE', () => {
    expect(codeOf(() => encodeFrame(FrameKind.Data, Buffer.alloc(10), 9))).toBe('ERR_FRAME_TOO_LARGE');
    expect(codeOf(() => encodeControlFrame({ type: 'ping', nonce: 'x'.repeat(64) }, 20))).toBe('ERR_FRAME_TOO_LARGE');
  });

  test('dataPieces: data payloads come as pieces that join to the payload, control frames whole', () => {
    const bytes = Buffer.concat([
      ...encodeFrame(FrameKind.Data, Buffer.from('0123456789')),
      bye,
      ...encodeFrame(FrameKind.Data, Buffer.alloc(0)),
      ...encodeFrame(FrameKind.Data, Buffer.from('ab')),
    ]);
    const expected = [
      { kind: 2, payload: '0123456789' },
      { kind: 1, payload: '{"type":"bye"}' },
      { kind: 2, payload: '' },
      { kind: 2, payload: 'ab' },
    ];
    for (const { label, pieces } of splits(bytes)) {
      const decoder = new FrameDecoder({ maxFrameBytes: 64, dataPieces: true });
      const frames: { kind: number; payload: string }[] = [];
      let joining: Buffer[] = [];
      for (const piece of pieces) {
        for (const frame of decoder.push(piece)) {
          if (frame.kind === FrameKind.Control) expect({ label, more: frame.more }).toEqual({ label, more: undefined });
          joining.push(Buffer.from(frame.payload));
          if (frame.more) continue;
          frames.push({ kind: frame.kind, payload: Buffer.concat(joining).toString() });
          joining = [];
        }
      }
      expect({ label, frames }).toEqual({ label, frames: expected });
      expect({ label, buffered: decoder.buffered }).toEqual({ label, buffered: 0 });
    }
  });

  test('dataPieces: a data frame cut short is still reported as truncated', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 64, dataPieces: true });
    const frame = Buffer.concat(encodeFrame(FrameKind.Data, Buffer.from('0123456789')));
    expect(decoder.push(frame.subarray(0, 8)).map((f) => [f.payload.toString(), f.more])).toEqual([['012', true]]);
    expect(() => decoder.end()).toThrow(ProtocolError);
  });

  test('next(): frames before a bad header are returned first, however the bytes were split', () => {
    const good = Buffer.concat([encodeControlFrame({ type: 'ping' }), encodeControlFrame({ type: 'bye' })]);
    const bytes = Buffer.concat([good, Buffer.from('0000000009', 'hex')]);
    for (const { label, pieces } of splits(bytes)) {
      const decoder = new FrameDecoder({ maxFrameBytes: 64 });
      const seen: string[] = [];
      let code: string | undefined;
      for (const piece of pieces) {
        decoder.feed(piece);
        code = codeOf(() => {
          for (let f = decoder.next(); f !== undefined; f = decoder.next()) seen.push(f.payload.toString());
        });
        if (code !== undefined) break;
      }
      expect({ label, seen, code }).toEqual({
        label,
        seen: ['{"type":"ping"}', '{"type":"bye"}'],
        code: 'ERR_FRAME_KIND',
      });
    }
  });

  test('maxControlBytes bounds control frames only', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1024, maxControlBytes: 16 });
    expect(decoder.push(Buffer.concat(encodeFrame(FrameKind.Data, Buffer.alloc(1024))))).toHaveLength(1);
    expect(codeOf(() => decoder.push(encodeFrameHeader(FrameKind.Control, 17)))).toBe('ERR_FRAME_TOO_LARGE');
    const small = new FrameDecoder({ maxFrameBytes: 8, maxControlBytes: 16 });
    expect(codeOf(() => small.push(encodeFrameHeader(FrameKind.Control, 9)))).toBe('ERR_FRAME_TOO_LARGE');
  });

  test('a payload arriving a byte at a time is gathered whole, with the next frame after it intact', () => {
    const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const bytes = Buffer.concat([...encodeFrame(FrameKind.Data, payload), encodeControlFrame({ type: 'bye' })]);
    const decoder = new FrameDecoder({ maxFrameBytes: 4096 });
    const frames: Buffer[] = [];
    for (const b of bytes) {
      decoder.feed(Buffer.from([b]));
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) frames.push(Buffer.from(f.payload));
      if (frames.length === 0) expect(decoder.inFrame).toBe(true);
    }
    expect(frames).toEqual([payload, Buffer.from('{"type":"bye"}')]);
    expect(decoder.buffered).toBe(0);
    expect(decoder.inFrame).toBe(false);
  });

  test('a control frame is the JSON after a header', () => {
    expect(encodeControlFrame({ type: 'bye' }).equals(bye)).toBe(true);
  });
});
