/**
 * The XML and binary decoders, rewritten for speed, against the decoders they replaced (kept in test/dict/oracle/):
 * on valid, mutated and random input, with small and default limits, both return the same dictionary (same keys
 * in the same order, same values, same sign of zero) or refuse with the same code (docs/PROTOCOL.md §5.4, §5.5,
 * §5.6). Once the format tests are trusted to pin the decoders down, this test and the oracles can go.
 */
import fc from 'fast-check';
import type { DictLimits } from '../../src/dict/index';
import { decodeProtobuf, decodeXml, encodeDict } from '../../src/dict/index';
import { dictArb, dump, safeNumberArb } from './dict-helpers';
import { decodeProtobufWithProtobufjs } from './oracle/protobuf-decode-protobufjs';
import { decodeXmlOld } from './oracle/xml-decode-old';

type Decode = (bytes: Uint8Array, limits?: DictLimits) => unknown;

/** What a decoder made of the bytes: the dictionary as `dump` shows it, or the code it refused them with. */
function outcome(decode: Decode, bytes: Uint8Array, limits: DictLimits | undefined): string {
  try {
    return `value ${dump(decode(bytes, limits))}`;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string') throw err;
    return `error ${code}`;
  }
}

const limitsArb: fc.Arbitrary<DictLimits | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ maxDictDepth: fc.integer({ min: 0, max: 6 }), maxDictBytes: fc.integer({ min: 0, max: 400 }) }),
  fc.record({ maxDictDepth: fc.integer({ min: 1, max: 40 }) }),
);

/** Edits of valid bytes that keep most of the structure: a byte set, a byte inserted, a range cut or copied. */
const editsArb = fc.array(
  fc.record({ at: fc.nat(), how: fc.constantFrom('set', 'insert', 'cut', 'copy'), byte: fc.nat(255), len: fc.nat(8) }),
  { minLength: 1, maxLength: 3 },
);
function applyEdits(
  bytes: Uint8Array,
  edits: { at: number; how: string; byte: number; len: number }[],
  alphabet: number[],
): Uint8Array {
  const out = [...bytes];
  for (const { at, how, byte, len } of edits) {
    const i = out.length === 0 ? 0 : at % (out.length + 1);
    const b = alphabet[byte % alphabet.length] as number;
    if (how === 'set' && i < out.length) out[i] = b;
    else if (how === 'insert') out.splice(i, 0, b);
    else if (how === 'cut') out.splice(i, len);
    else out.splice(i, 0, ...out.slice(i, i + len));
  }
  return new Uint8Array(out);
}

describe.each<[string, Decode, Decode, number[]]>([
  // Bytes that are tags, lengths, varint continuations and NaN/2^53 halves.
  [
    'protobuf',
    decodeProtobuf,
    decodeProtobufWithProtobufjs,
    [0x00, 0x01, 0x02, 0x08, 0x0a, 0x11, 0x12, 0x1a, 0x20, 0x2a, 0x32, 0x38, 0x43, 0x7f, 0x80, 0xc3, 0xf8, 0xff],
  ],
  // Bytes of the markup, references, line ends, controls and the start of multi-byte UTF-8.
  [
    'xml',
    decodeXml,
    decodeXmlOld,
    [...'<>/="\' &;#x!-[]?\\\r\n\tu0AaDdkeystrnumbojc1']
      .map((c) => c.charCodeAt(0))
      .concat([0x01, 0xc3, 0xa9, 0xef, 0xbb, 0xbf, 0xff]),
  ],
])('%s decoder against the one it replaced', (format, decode, oracle, alphabet) => {
  const agree = (bytes: Uint8Array, limits: DictLimits | undefined): void => {
    expect(outcome(decode, bytes, limits)).toBe(outcome(oracle, bytes, limits));
  };

  it('agrees on valid encodings', () => {
    fc.assert(
      fc.property(dictArb(safeNumberArb), limitsArb, (value, limits) =>
        agree(encodeDict(value, format as 'xml'), limits),
      ),
      {
        numRuns: 500,
      },
    );
  });

  it('agrees on edited encodings', () => {
    fc.assert(
      fc.property(dictArb(safeNumberArb), editsArb, limitsArb, (value, edits, limits) =>
        agree(applyEdits(encodeDict(value, format as 'xml'), edits, alphabet), limits),
      ),
      { numRuns: 3000 },
    );
  });

  it('agrees on random bytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...alphabet), { maxLength: 120 }),
        fc.uint8Array({ maxLength: 60 }),
        limitsArb,
        (a, b, limits) => {
          agree(new Uint8Array(a), limits);
          agree(b, limits);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** Concatenates byte arrays. */
const cat = (...parts: (readonly number[] | Uint8Array)[]): number[] => parts.flatMap((p) => [...p]);
const varint = (n: number): number[] => {
  const out: number[] = [];
  for (; n > 0x7f; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  return [...out, n];
};
const ld = (tag: number, body: readonly number[]): number[] => cat([tag], varint(body.length), body);
const double = (n: number): number[] => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, n, true);
  return [...b];
};

/**
 * Struct messages built field by field, with correct lengths, from mostly the right fields: entries with zero,
 * one or two keys and values, Values with zero, one or two kinds, overlong and odd varints, NaN, unsafe integers,
 * invalid UTF-8, and now and then a field Struct does not define.
 */
const structArb: fc.Arbitrary<number[]> = (() => {
  const odd = fc.constantFrom<number[]>(
    [0],
    [1],
    [2],
    [0x80, 0x00],
    [0x81, 0x00],
    [0xff, 0xff, 0xff, 0xff, 0x0f],
    [...Array(9).fill(0x80), 0x00],
    [...Array(10).fill(0x80), 0x00],
  );
  const text = fc.oneof(
    fc.constantFrom('', 'a', 'k', '__proto__', 'é', '😀', 'x'.repeat(40)).map((s) => [...new TextEncoder().encode(s)]),
    fc.constantFrom<number[]>([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xef, 0xbb, 0xbf], [0x61, 0x80]),
  );
  const number = fc.oneof(safeNumberArb, fc.constantFrom(Number.NaN, Infinity, 2 ** 53, -1e308));
  const junk = fc.constantFrom<number[]>(
    [0x38, 0x00],
    [0x12, 0x00],
    [0x09, ...double(1)],
    [0x1a, 0x00],
    [0x00],
    [0x0b],
  );
  const tree = fc.letrec<{ struct: number[]; list: number[]; entry: number[]; value: number[]; kind: number[] }>(
    (tie) => ({
      struct: fc
        .array(
          fc.oneof({ weight: 9, arbitrary: tie('entry').map((e) => ld(0x0a, e)) }, { weight: 1, arbitrary: junk }),
          { maxLength: 3 },
        )
        .map((f) => f.flat()),
      list: fc
        .array(
          fc.oneof({ weight: 9, arbitrary: tie('value').map((v) => ld(0x0a, v)) }, { weight: 1, arbitrary: junk }),
          { maxLength: 3 },
        )
        .map((f) => f.flat()),
      entry: fc
        .array(
          fc.oneof(
            text.map((k) => ld(0x0a, k)),
            tie('value').map((v) => ld(0x12, v)),
            junk,
          ),
          { maxLength: 3 },
        )
        .map((f) => f.flat()),
      // Mostly one kind; else none, two, or one followed by a field of an entry or a list.
      value: fc.oneof(
        { weight: 6, arbitrary: tie('kind') },
        { weight: 1, arbitrary: fc.constant<number[]>([]) },
        { weight: 2, arbitrary: fc.tuple(tie('kind'), tie('kind')).map(([a, b]) => cat(a, b)) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(tie('kind'), fc.constantFrom<number[]>([0x0a, 0x01, 0x61], [0x12, 0x02, 0x08, 0x00], [0x0a, 0x00]))
            .map(([a, b]) => cat(a, b)),
        },
      ),
      kind: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        odd.map((v) => cat([0x08], v)),
        number.map((n) => cat([0x11], double(n))),
        text.map((s) => ld(0x1a, s)),
        odd.map((v) => cat([0x20], v)),
        tie('struct').map((b) => ld(0x2a, b)),
        tie('list').map((b) => ld(0x32, b)),
        junk,
      ),
    }),
  );
  return tree.struct;
})();

describe('xml decoder against the one it replaced, around the one-match path', () => {
  it('agrees on keys and texts of 255 to 257 characters, plain or with a reference at either end', () => {
    for (const n of [255, 256, 257]) {
      for (const s of ['x'.repeat(n), `&amp;${'x'.repeat(n)}`, `${'x'.repeat(n)}&amp;`]) {
        for (const xml of [
          `<dict><string key="${s}">${s}</string></dict>`,
          `<dict><array key="${s}"><number>${'1'.repeat(n)}</number></array></dict>`,
        ]) {
          const bytes = new TextEncoder().encode(xml);
          expect(outcome(decodeXml, bytes, undefined)).toBe(outcome(decodeXmlOld, bytes, undefined));
        }
      }
    }
  });
});

describe('protobuf decoder against the one it replaced, on generated messages', () => {
  it('agrees on Struct messages built field by field', () => {
    fc.assert(
      fc.property(structArb, limitsArb, (message, limits) => {
        const bytes = new Uint8Array(message);
        expect(outcome(decodeProtobuf, bytes, limits)).toBe(outcome(decodeProtobufWithProtobufjs, bytes, limits));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees on NaN, infinities and unsafe integers anywhere in the tree', () => {
    const special = fc.constantFrom(
      Number.NaN,
      Infinity,
      -Infinity,
      2 ** 53,
      -(2 ** 53),
      1e308,
      Number.MAX_SAFE_INTEGER,
      0.5,
    );
    fc.assert(
      fc.property(dictArb(safeNumberArb), special, fc.nat(), limitsArb, (value, n, at, limits) => {
        // Re-point one 8-byte number of a valid encoding at `n` (tag 0x11 is a Value's number_value).
        const bytes = encodeDict({ ...value, n: [1, { m: 2 }] }, 'protobuf');
        const tags = [...bytes.keys()].filter((i) => bytes[i] === 0x11 && i + 9 <= bytes.length);
        const i = tags[at % tags.length] as number;
        new DataView(bytes.buffer, bytes.byteOffset).setFloat64(i + 1, n, true);
        expect(outcome(decodeProtobuf, bytes, limits)).toBe(outcome(decodeProtobufWithProtobufjs, bytes, limits));
      }),
      { numRuns: 1000 },
    );
  });
});
