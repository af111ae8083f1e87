/** decode(encode(x)) is x, exactly, in every format: fast-check properties (docs/PROTOCOL.md §5). */
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../src/limits';
import { decodeDict, encodeDict } from '../../src/dict/index';
import { codeOf } from '@proj/test-utils';
import {
  FORMATS,
  dictArb,
  expectSameDict,
  isUnsafeInteger,
  keyArb,
  nested,
  roundTrip,
  safeNumberArb,
} from './dict-helpers';

const RUNS = 300;

describe.each(['json', 'xml'] as const)('%s round trip', (format) => {
  it('carries every dictionary exactly', () => {
    fc.assert(
      fc.property(dictArb(), (value) => expectSameDict(roundTrip(value, format), value)),
      { numRuns: RUNS },
    );
  });
});

describe('protobuf round trip', () => {
  it('carries every dictionary without unsafe integers exactly', () => {
    fc.assert(
      fc.property(dictArb(safeNumberArb), (value) => expectSameDict(roundTrip(value, 'protobuf'), value)),
      { numRuns: RUNS },
    );
  });

  it('refuses, never rounds, an integer beyond 2^53 - 1 anywhere in the tree', () => {
    fc.assert(
      fc.property(
        dictArb(safeNumberArb),
        fc.double({ min: 2 ** 53, noNaN: true, noDefaultInfinity: true }).filter(isUnsafeInteger),
        fc.boolean(),
        (value, big, negative) => {
          const withBig = { ...value, deep: [{ n: negative ? -big : big }] };
          expect(codeOf(() => encodeDict(withBig, 'protobuf'))).toBe('ERR_UNSAFE_INTEGER');
        },
      ),
    );
  });
});

describe.each(FORMATS)('%s nesting', (format) => {
  const max = DEFAULT_LIMITS.maxDictDepth;

  it('carries any depth up to the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max }), fc.array(fc.boolean(), { maxLength: max }), keyArb, (d, kinds, key) => {
        const value = nested(d, kinds, key);
        expectSameDict(roundTrip(value, format), value);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses one level more, on encode and on decode', () => {
    const deep = nested(max + 1, [true, false, true]);
    expect(codeOf(() => encodeDict(deep, format))).toBe('ERR_DICT_TOO_DEEP');
    const bytes = encodeDict(deep, format, { maxDictDepth: max + 1 });
    expect(codeOf(() => decodeDict(bytes, format))).toBe('ERR_DICT_TOO_DEEP');
    expectSameDict(decodeDict(bytes, format, { maxDictDepth: max + 1 }), deep);
  });
});

describe.each(FORMATS)('%s named corners', (format) => {
  it.each([
    ['negative zero', { z: -0, a: [-0, 0] }],
    [
      'extreme numbers',
      { big: 1e308, tiny: 5e-324, max: Number.MAX_VALUE, safe: Number.MAX_SAFE_INTEGER, neg: -Number.MAX_SAFE_INTEGER },
    ],
    ['empty containers and strings', { o: {}, a: [], s: '', n: null, aa: [[], {}, '', null] }],
    ['odd keys', { ['__proto__']: { ['__proto__']: 1 }, '': '', constructor: 'c', 'a b': 1, '🔑\u0000\t\r\n': 2 }],
  ])('%s', (_name, literal) => {
    // Parse the literal's JSON so that `__proto__` is an own key, as a decoder would produce it.
    const value = JSON.parse(JSON.stringify(literal).replace(/"z":0/, '"z":-0')) as Record<string, unknown>;
    if (format === 'protobuf' && 'big' in value) {
      expect(codeOf(() => encodeDict(value as never, format))).toBe('ERR_UNSAFE_INTEGER');
      delete value.big;
      delete value.max;
    }
    expectSameDict(roundTrip(value as never, format), value);
  });
});
