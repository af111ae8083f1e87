/** The binary encoding (docs/PROTOCOL.md §5.5): google.protobuf.Struct, checked against protobufjs's own type. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { decodeProtobuf, encodeProtobuf, type Dict, type DictValue } from '../../src/dict/index';
import { codeOf } from '@proj/test-utils';
import { VECTORS_DIR, dictArb, expectSameDict, safeNumberArb } from './dict-helpers';

// protobufjs bundles struct.proto as a "common" type: the reference this encoder must agree with.
const Struct = protobuf.Root.fromJSON(
  protobuf.common.get('google/protobuf/struct.proto') as protobuf.INamespace,
).lookupType('google.protobuf.Struct');

/** The message object protobufjs's Struct type expects for `value`. */
function toMessage(v: DictValue): Record<string, unknown> {
  if (v === null) return { nullValue: 0 };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toMessage) } };
  return { structValue: toStruct(v) };
}
function toStruct(d: Dict): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const k of Object.keys(d)) {
    Object.defineProperty(fields, k, { value: toMessage(d[k] as DictValue), enumerable: true });
  }
  return { fields };
}

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

describe('encodeProtobuf', () => {
  it('writes the bytes protobufjs writes for the same Struct', () => {
    fc.assert(
      fc.property(dictArb(safeNumberArb), (value) => {
        const ours = Buffer.from(encodeProtobuf(value));
        const theirs = Buffer.from(Struct.encode(toStruct(value)).finish());
        expect(ours.equals(theirs)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('returns a plain Uint8Array', () => {
    expect(Object.getPrototypeOf(encodeProtobuf({ a: 1 }))).toBe(Uint8Array.prototype);
  });

  it.each([2 ** 53, -(2 ** 53), 1e20, 1e308, Number.MAX_VALUE])('refuses the integer %d with its path', (n) => {
    const err = (() => {
      try {
        encodeProtobuf({ a: [{ 'b c': n }] });
      } catch (e) {
        return e as { code: string; path: string };
      }
      throw new Error('not refused');
    })();
    expect(err.code).toBe('ERR_UNSAFE_INTEGER');
    expect(err.path).toBe('$.a[0]["b c"]');
  });

  it('carries safe integers and every non-integer', () => {
    const value = { a: Number.MAX_SAFE_INTEGER, b: -Number.MAX_SAFE_INTEGER, c: 2 ** 52 + 0.5, d: 5e-324, e: -0 };
    expectSameDict(decodeProtobuf(encodeProtobuf(value)), value);
  });
});

describe('decodeProtobuf', () => {
  it('reads what protobufjs writes', () => {
    const sample = JSON.parse(readFileSync(join(VECTORS_DIR, 'sample.value.json'), 'utf8')) as Dict;
    expectSameDict(decodeProtobuf(Struct.encode(toStruct(sample)).finish()), sample);
  });

  it('reads an empty message as an empty dictionary, and a missing key as ""', () => {
    expect(decodeProtobuf(bytes())).toEqual({});
    // fields { value { bool_value: true } }
    expect(decodeProtobuf(bytes(0x0a, 0x04, 0x12, 0x02, 0x20, 0x01))).toEqual({ '': true });
  });

  it('keeps the first position and the last value of a repeated key', () => {
    const a1 = [0x0a, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0x20, 0x01]; // a: true
    const b = [0x0a, 0x07, 0x0a, 0x01, 0x62, 0x12, 0x02, 0x08, 0x00]; // b: null
    const a2 = [0x0a, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0x20, 0x00]; // a: false
    const d = decodeProtobuf(bytes(...a1, ...b, ...a2));
    expect(Object.keys(d)).toEqual(['a', 'b']);
    expect(d).toEqual({ a: false, b: null });
  });

  it('keeps a __proto__ key as an own key', () => {
    const d = decodeProtobuf(encodeProtobuf(JSON.parse('{"__proto__":{"polluted":true}}') as Dict));
    expect(Object.keys(d)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  const nan = [0x11, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f];
  const big = [0x11, 0, 0, 0, 0, 0, 0, 0x40, 0x43]; // 2^53
  it.each<[string, number[], string]>([
    ['a Value with no kind', [0x0a, 0x05, 0x0a, 0x01, 0x61, 0x12, 0x00], 'ERR_DECODE'],
    ['an entry with no value', [0x0a, 0x03, 0x0a, 0x01, 0x61], 'ERR_DECODE'],
    ['a Value with two kinds', [0x0a, 0x09, 0x0a, 0x01, 0x61, 0x12, 0x04, 0x08, 0x00, 0x20, 0x01], 'ERR_DECODE'],
    ['an entry with two keys', [0x0a, 0x0a, 0x0a, 0x01, 0x61, 0x0a, 0x01, 0x62, 0x12, 0x02, 0x08, 0x00], 'ERR_DECODE'],
    ['an unknown Struct field', [0x12, 0x00], 'ERR_DECODE'],
    ['an unknown Value field', [0x0a, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0x38, 0x00], 'ERR_DECODE'],
    ['a wrong wire type', [0x08, 0x01], 'ERR_DECODE'],
    ['field number 0', [0x02, 0x00], 'ERR_DECODE'],
    ['a NullValue of 1', [0x0a, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0x08, 0x01], 'ERR_DECODE'],
    ['a bool_value of 2', [0x0a, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0x20, 0x02], 'ERR_DECODE'],
    ['a bool_value of 1 in two bytes', [0x0a, 0x08, 0x0a, 0x01, 0x61, 0x12, 0x03, 0x20, 0x81, 0x00], 'ERR_DECODE'],
    ['an entry length in two bytes', [0x0a, 0x87, 0x00, 0x0a, 0x01, 0x61, 0x12, 0x02, 0x08, 0x00], 'ERR_DECODE'],
    ['a key length in two bytes', [0x0a, 0x08, 0x0a, 0x81, 0x00, 0x61, 0x12, 0x02, 0x08, 0x00], 'ERR_DECODE'],
    ['a tag in two bytes', [0x8a, 0x00, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0x08, 0x00], 'ERR_DECODE'],
    ['a length past the end', [0x0a, 0x10, 0x0a, 0x01, 0x61], 'ERR_DECODE'],
    ['a truncated double', [0x0a, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0x11, 0x00], 'ERR_DECODE'],
    ['a truncated varint', [0x0a, 0xff], 'ERR_DECODE'],
    ['invalid UTF-8 in a key', [0x0a, 0x07, 0x0a, 0x01, 0xff, 0x12, 0x02, 0x08, 0x00], 'ERR_DECODE'],
    ['invalid UTF-8 in a string', [0x0a, 0x08, 0x0a, 0x01, 0x61, 0x12, 0x03, 0x1a, 0x01, 0xc3], 'ERR_DECODE'],
    ['a NaN', [0x0a, 0x0e, 0x0a, 0x01, 0x61, 0x12, 0x09, ...nan], 'ERR_DICT_INVALID'],
    ['an integer beyond 2^53 - 1', [0x0a, 0x0e, 0x0a, 0x01, 0x61, 0x12, 0x09, ...big], 'ERR_UNSAFE_INTEGER'],
  ])('refuses %s', (_name, b, code) => {
    expect(codeOf(() => decodeProtobuf(bytes(...b)))).toBe(code);
  });

  it('reads the same entries written canonically: {a: null} and {a: true}', () => {
    expect(decodeProtobuf(bytes(0x0a, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0x08, 0x00))).toEqual({ a: null });
    expect(decodeProtobuf(bytes(0x0a, 0x07, 0x0a, 0x01, 0x61, 0x12, 0x02, 0x20, 0x01))).toEqual({ a: true });
  });

  it('refuses 100000 nested lists as too deep, without a stack overflow', () => {
    // Built back to front: each level is a Value { list_value { values: <inner> } }.
    const buf = new Uint8Array(1024 * 1024);
    let start = buf.length;
    const prepend = (...b: number[]): void => {
      start -= b.length;
      buf.set(b, start);
    };
    const varint = (n: number): number[] => {
      const out: number[] = [];
      for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
      out.push(n);
      return out;
    };
    prepend(0x08, 0x00); // null_value
    for (let i = 0; i < 100_000; i++) {
      const inner = buf.length - start;
      prepend(0x0a, ...varint(inner)); // ListValue.values
      prepend(0x32, ...varint(inner + 1 + varint(inner).length)); // Value.list_value
    }
    const valueLength = buf.length - start;
    prepend(0x12, ...varint(valueLength)); // entry value
    prepend(0x0a, 0x01, 0x61); // entry key "a"
    prepend(0x0a, ...varint(buf.length - start)); // Struct.fields
    const message = buf.subarray(start);
    expect(codeOf(() => decodeProtobuf(message))).toBe('ERR_DICT_TOO_DEEP');
    // With the limit raised, the iterative reader returns the value instead of overflowing the stack.
    expect(Array.isArray(decodeProtobuf(message, { maxDictDepth: 1_000_000 }).a)).toBe(true);
  });
});
