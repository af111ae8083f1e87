/** The value model, limits, schemas and format names (docs/PROTOCOL.md §5.1, §2). */
import {
  DICT_FILE_EXTENSIONS,
  DICT_FORMATS,
  decodeDict,
  dictSchema,
  dictValueSchema,
  encodeDict,
  parseDictFormat,
  validateDict,
  type Dict,
  type DictFormat,
} from '../../src/dict/index';
import { codeOf } from '@proj/test-utils';
import { FORMATS } from './dict-helpers';

describe('validateDict', () => {
  it('returns the very value it was given', () => {
    const value = { a: [1, 'x', null, true, { b: -0 }] };
    expect(validateDict(value)).toBe(value);
    expect(validateDict(Object.assign(Object.create(null) as Dict, { a: 1 }))).toEqual({ a: 1 });
  });

  it.each<[string, unknown]>([
    ['an array root', [1]],
    ['a string root', 'x'],
    ['a null root', null],
    ['NaN', { n: NaN }],
    ['Infinity', { n: [Infinity] }],
    ['undefined', { u: undefined }],
    ['a function', { f: () => 1 }],
    ['a bigint', { b: 1n }],
    ['a Date', { d: new Date(0) }],
    ['a Map', { m: new Map() }],
    ['a class instance', { c: new (class Point {})() }],
    ['a symbol key', { [Symbol('s')]: 1 }],
    ['a lone surrogate in a string', { s: 'a\ud800' }],
    ['a lone surrogate in a key', { '\udc00': 1 }],
    // biome-ignore lint/suspicious/noSparseArray: the case is a sparse array
    ['a sparse array', { a: [1, , 3] }],
  ])('refuses %s with ERR_DICT_INVALID', (_name, value) => {
    expect(codeOf(() => validateDict(value))).toBe('ERR_DICT_INVALID');
  });

  it('refuses a cycle as too deep rather than looping', () => {
    const a: Dict = {};
    a.self = a;
    expect(codeOf(() => validateDict(a))).toBe('ERR_DICT_TOO_DEEP');
  });

  it('refuses a shared-reference tree that would expand past the size limit, quickly', () => {
    let level: Dict = { leaf: 'x'.repeat(10) };
    for (let i = 0; i < 30; i++) level = { l: level, r: level }; // 2^30 leaves as a tree
    const started = Date.now();
    expect(codeOf(() => validateDict(level))).toBe('ERR_DICT_TOO_LARGE');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('counts depth from the root object as 1', () => {
    expect(validateDict({ a: { b: [] } }, { maxDictDepth: 3 })).toBeDefined();
    expect(codeOf(() => validateDict({ a: { b: [] } }, { maxDictDepth: 2 }))).toBe('ERR_DICT_TOO_DEEP');
    expect(validateDict({}, { maxDictDepth: 1 })).toEqual({});
  });
});

describe('size limit', () => {
  it.each(FORMATS)('%s: a tree too big to encode is refused before a buffer is built', (format) => {
    const huge = { s: 'x'.repeat(64) };
    expect(codeOf(() => encodeDict(huge, format, { maxDictBytes: 63 }))).toBe('ERR_DICT_TOO_LARGE');
  });

  it.each(FORMATS)('%s: encoded size exactly at the limit passes, one byte less fails', (format) => {
    const value = { text: 'é'.repeat(50), list: [1, null, true] };
    const size = encodeDict(value, format).length;
    expect(encodeDict(value, format, { maxDictBytes: size }).length).toBe(size);
    expect(codeOf(() => encodeDict(value, format, { maxDictBytes: size - 1 }))).toBe('ERR_DICT_TOO_LARGE');
    const bytes = encodeDict(value, format);
    expect(decodeDict(bytes, format, { maxDictBytes: size })).toEqual(value);
    expect(codeOf(() => decodeDict(bytes, format, { maxDictBytes: size - 1 }))).toBe('ERR_DICT_TOO_LARGE');
  });

  it.each(FORMATS)('%s: input of limit + 1 bytes is refused before it is read', (format) => {
    const garbage = new Uint8Array(1024 * 1024 + 1).fill(0xff);
    expect(codeOf(() => decodeDict(garbage, format))).toBe('ERR_DICT_TOO_LARGE');
  });
});

describe('zod schemas', () => {
  it('accept dictionaries and return them as they are', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"a":[-0]}') as Dict;
    const parsed = dictSchema.parse(value);
    expect(parsed).toBe(value);
    expect(Object.keys(parsed)).toEqual(['__proto__', 'a']);
    expect(dictValueSchema.parse('text')).toBe('text');
    expect(dictValueSchema.parse([1, { a: null }])).toEqual([1, { a: null }]);
  });

  it('refuse with the protocol code in params', () => {
    const result = dictSchema.safeParse([1]);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ code: 'custom', params: { code: 'ERR_DICT_INVALID' } });
    expect(dictValueSchema.safeParse({ n: NaN }).success).toBe(false);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(dictValueSchema.safeParse(deep).error?.issues[0]).toMatchObject({ params: { code: 'ERR_DICT_TOO_DEEP' } });
  });
});

describe('format names', () => {
  it('lists the formats and their file extensions', () => {
    expect(DICT_FORMATS).toEqual(['json', 'xml', 'protobuf']);
    expect(DICT_FILE_EXTENSIONS).toEqual({ json: 'json', xml: 'xml', protobuf: 'pb' });
  });

  it('parses names and the binary alias', () => {
    expect(DICT_FORMATS.map(parseDictFormat)).toEqual(DICT_FORMATS);
    expect(parseDictFormat('binary')).toBe('protobuf');
  });

  it.each(['', 'JSON', 'yaml', 'pb', 'toString', '__proto__', 'constructor'])('refuses %j', (name) => {
    expect(codeOf(() => parseDictFormat(name))).toBe('ERR_FORMAT_UNSUPPORTED');
  });

  it('refuses an unknown format in encodeDict and decodeDict', () => {
    const bad = 'yaml' as DictFormat;
    expect(codeOf(() => encodeDict({}, bad))).toBe('ERR_FORMAT_UNSUPPORTED');
    expect(codeOf(() => decodeDict(new Uint8Array(), bad))).toBe('ERR_FORMAT_UNSUPPORTED');
  });
});
