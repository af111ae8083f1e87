/** The JSON encoding (docs/PROTOCOL.md §5.3). */
import { decodeJson, encodeJson } from '../../src/dict/index';
import { codeOf } from '@proj/test-utils';
import { text, utf8 } from './dict-helpers';

describe('encodeJson', () => {
  it('writes compact JSON in key order, with negative zero as -0', () => {
    expect(text(encodeJson({ b: -0, a: [0, -0, 1.5e-7, 1e21], s: 'é\u0000"' }))).toBe(
      '{"b":-0,"a":[0,-0,1.5e-7,1e+21],"s":"é\\u0000\\""}',
    );
  });
});

describe('decodeJson', () => {
  it('keeps negative zero and a __proto__ key as an own key', () => {
    const d = decodeJson(utf8('{"__proto__":{"polluted":true},"z":-0}'));
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(Object.keys(d)).toEqual(['__proto__', 'z']);
    expect(Object.is(d.z, -0)).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('takes the last of repeated keys, as JSON.parse does', () => {
    expect(decodeJson(utf8('{"a":1,"a":2}'))).toEqual({ a: 2 });
  });

  it.each<[string, Uint8Array, string]>([
    ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]), 'ERR_DECODE'],
    ['a byte order mark', utf8('\uFEFF{}'), 'ERR_DECODE'],
    ['malformed JSON', utf8('{"a":}'), 'ERR_DECODE'],
    ['empty input', utf8(''), 'ERR_DECODE'],
    ['NaN', utf8('{"a":NaN}'), 'ERR_DECODE'],
    ['an array root', utf8('[1]'), 'ERR_DICT_INVALID'],
    ['a number beyond double range', utf8('{"a":1e400}'), 'ERR_DICT_INVALID'],
    ['an escaped lone surrogate', utf8('{"a":"\\ud800"}'), 'ERR_DICT_INVALID'],
    ['100000 nested [', utf8('['.repeat(100_000)), 'ERR_DICT_TOO_DEEP'],
    ['100000 balanced nested arrays', utf8(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), 'ERR_DICT_TOO_DEEP'],
    ['100000 nested objects', utf8('{"a":'.repeat(100_000)), 'ERR_DICT_TOO_DEEP'],
  ])('refuses %s', (_name, bytes, code) => {
    expect(codeOf(() => decodeJson(bytes))).toBe(code);
  });

  it('does not count brackets inside strings as nesting', () => {
    expect(decodeJson(utf8(`{"a":"${'['.repeat(100)}\\"{"}`), { maxDictDepth: 1 })).toEqual({
      a: `${'['.repeat(100)}"{`,
    });
  });
});
