/** Shared by the dictionary tests: fast-check arbitraries, exact comparison (codeOf is @proj/test-utils'). */
import { join } from 'node:path';
import fc from 'fast-check';
import type { Dict, DictValue } from '../../src/dict/index';
import { decodeDict, encodeDict, type DictFormat } from '../../src/dict/index';
import { VECTORS_DIR as SPEC_VECTORS_DIR } from '../spec-vectors';

/** The committed golden vectors. */
export const VECTORS_DIR = join(SPEC_VECTORS_DIR, 'dict');

export const FORMATS: readonly DictFormat[] = ['json', 'xml', 'protobuf'];

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Keys: any Unicode (no lone surrogates: the model refuses them), plus keys that break naive code. */
export const keyArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom(
    '__proto__',
    '',
    'constructor',
    'toString',
    'hasOwnProperty',
    'a b',
    'x:y',
    '1',
    '-1',
    '<&>"\'',
    '\r\n',
    ' \t ',
    '\u0000',
    '\u0007',
    '\uFFFE',
    '\\',
    '\\u0041',
    '🔑',
    'ключ',
  ),
);

export const stringArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '  padded  ',
    '\r\n',
    '\r',
    '\n\n',
    '\t',
    ']]>',
    '<![CDATA[x',
    '&amp;',
    '&#13;',
    '\\',
    '\\\\u0000',
    '\u0000',
    'bell\u0007',
    '\uFFFF',
    '\uFEFFbom',
    '😀',
    '-0',
    'NaN',
    'null',
    'true',
  ),
);

/** Every finite double, with the corners named in the spec made likely. */
export const numberArb = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    0.1,
    1e21,
    1e-7,
    1e308,
    -1e308,
    5e-324,
    -5e-324,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    MAX_SAFE,
    -MAX_SAFE,
    2 ** 53,
    123456789.123,
  ),
);

/** True for the integers the binary format refuses (ERR_UNSAFE_INTEGER). */
export const isUnsafeInteger = (n: number): boolean => Number.isInteger(n) && !Number.isSafeInteger(n);

/** Dictionaries with numbers from `numbers`; nesting is kept shallow here, deep nesting has its own test. */
export function dictArb(numbers: fc.Arbitrary<number> = numberArb): fc.Arbitrary<Dict> {
  const tree = fc.letrec<{ value: DictValue; array: DictValue[]; object: Dict }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 4, depthSize: 'small' },
      stringArb,
      numbers,
      fc.boolean(),
      fc.constant(null),
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(keyArb, tie('value'), { maxKeys: 5, noNullPrototype: true }),
  }));
  return tree.object;
}

/** Numbers the binary format carries. */
export const safeNumberArb = numberArb.filter((n) => !isUnsafeInteger(n));

/** A dictionary nested exactly `depth` deep (root = 1), alternating objects and arrays as `kinds` says. */
export function nested(depth: number, kinds: readonly boolean[] = [], key = 'k'): Dict {
  let inner: DictValue = kinds[depth - 2] === true ? [] : {};
  if (depth === 1) return {};
  for (let level = depth - 1; level >= 2; level--) {
    inner = kinds[level - 2] === true ? [inner] : { [key]: inner };
  }
  return { [key]: inner };
}

/** An independent rendering that shows key order, prototypes and negative zero. */
export function dump(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(dump).join(',')}]`;
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return `{${Object.keys(v)
      .map((k) => `${JSON.stringify(k)}:${dump((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return `<${typeof v} ${Object.prototype.toString.call(v)}>`;
}

/** Equal in value, type, key order and sign of zero: what a round trip must preserve. */
export function expectSameDict(actual: unknown, expected: unknown): void {
  expect(dump(actual)).toBe(dump(expected));
  // toEqual, not toStrictEqual: jest's type check compares `.constructor`, which a key "constructor" replaces.
  expect(actual).toEqual(expected);
}

export function roundTrip(value: Dict, format: DictFormat): Dict {
  return decodeDict(encodeDict(value, format), format);
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
