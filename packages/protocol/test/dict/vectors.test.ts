/**
 * Golden dictionary vectors (spec/vectors/dict, docs/PROTOCOL.md §5.7 and §8): one sample value and its exact
 * encodings (sample.vector.json), and bodies each decoder must accept or refuse (decoding.json). Encoding the
 * value must give exactly the committed bytes, decoding each file exactly the value, and each decoding case its
 * value or its code. Regenerate the encodings after a deliberate format change with UPDATE_DICT_VECTORS=1 (then
 * review the diff).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDict, encodeDict, type Dict, type DictFormat } from '../../src/dict/index';
import { caseBytes, readJson, type DictDecodingVector, type DictEncodingsVector } from '../spec-vectors';
import { VECTORS_DIR, expectSameDict } from './dict-helpers';

const DESCRIPTOR = join(VECTORS_DIR, 'sample.vector.json');
const sample = readJson<DictEncodingsVector>(DESCRIPTOR);
const FORMATS = Object.keys(sample.encodings) as DictFormat[];
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

// JSON.parse keeps `-0` and defines `__proto__` as an own key: the file reads back as the value it shows.
const value = JSON.parse(readFileSync(join(VECTORS_DIR, sample.value), 'utf8')) as Dict;

if (process.env.UPDATE_DICT_VECTORS === '1') {
  for (const format of FORMATS) {
    const bytes = encodeDict(value, format);
    const entry = sample.encodings[format];
    writeFileSync(join(VECTORS_DIR, entry.file), bytes);
    Object.assign(entry, { bytes: bytes.length, sha256: sha256(bytes) });
  }
  writeFileSync(DESCRIPTOR, `${JSON.stringify(sample, null, 2)}\n`);
}

test('the sample has an encoding in each format', () => {
  expect(sample.vector).toBe('dict-encodings');
  expect(FORMATS.sort()).toEqual(['json', 'protobuf', 'xml']);
});

describe.each(FORMATS)('%s golden vector', (format) => {
  const entry = sample.encodings[format];
  const bytes = new Uint8Array(readFileSync(join(VECTORS_DIR, entry.file)));

  it('the file is the bytes the descriptor names (size and SHA-256)', () => {
    expect({ bytes: bytes.length, sha256: sha256(bytes) }).toEqual({ bytes: entry.bytes, sha256: entry.sha256 });
  });

  it('encodes the sample to exactly the committed bytes', () => {
    expect(Buffer.from(encodeDict(value, format)).equals(bytes)).toBe(true);
  });

  it('decodes the committed bytes to exactly the sample', () => {
    const decoded = decodeDict(bytes, format);
    expectSameDict(decoded, value);
    expect(Object.is(decoded['negative zero'], -0)).toBe(true);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toContain('__proto__');
  });
});

describe('decoding vectors', () => {
  const decoding = readJson<DictDecodingVector>(join(VECTORS_DIR, 'decoding.json'));

  test('names are unique, each case expects a value or a code', () => {
    expect(decoding.vector).toBe('dict-decoding');
    expect(new Set(decoding.cases.map((c) => c.name)).size).toBe(decoding.cases.length);
    for (const c of decoding.cases)
      expect([c.name, (c.value === undefined) !== (c.code === undefined)]).toEqual([c.name, true]);
  });

  test.each(decoding.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const bytes = caseBytes(c);
    if (c.code !== undefined) {
      expect(() => decodeDict(bytes, c.format)).toThrow(expect.objectContaining({ code: c.code }));
    } else {
      // The file's JSON, read with JSON.parse, is the value (with -0 kept, as in sample.value.json).
      expectSameDict(decodeDict(bytes, c.format), c.value);
    }
  });
});
