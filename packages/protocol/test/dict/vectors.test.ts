/**
 * Golden dictionary vectors (test/vectors/dict): one sample value and its exact encodings. Encoding the value
 * must give exactly the committed bytes, and decoding each file exactly the value.
 * Regenerate after a deliberate format change with UPDATE_DICT_VECTORS=1 (then review the diff).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDict, encodeDict, type Dict, type DictFormat } from '../../src/dict/index';
import { VECTORS_DIR, expectSameDict } from './dict-helpers';

const FILES: Record<DictFormat, string> = { json: 'sample.json', xml: 'sample.xml', protobuf: 'sample.pb' };

// JSON.parse keeps `-0` and defines `__proto__` as an own key: the file reads back as the value it shows.
const value = JSON.parse(readFileSync(join(VECTORS_DIR, 'sample.value.json'), 'utf8')) as Dict;

if (process.env.UPDATE_DICT_VECTORS === '1') {
  for (const [format, file] of Object.entries(FILES) as [DictFormat, string][]) {
    writeFileSync(join(VECTORS_DIR, file), encodeDict(value, format));
  }
  writeFileSync(join(VECTORS_DIR, 'sample.pb.hex'), `${Buffer.from(encodeDict(value, 'protobuf')).toString('hex')}\n`);
}

describe.each(Object.entries(FILES) as [DictFormat, string][])('%s golden vector', (format, file) => {
  const bytes = new Uint8Array(readFileSync(join(VECTORS_DIR, file)));

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

it('sample.pb.hex is sample.pb', () => {
  const hex = readFileSync(join(VECTORS_DIR, 'sample.pb.hex'), 'utf8').trim();
  expect(Buffer.from(hex, 'hex').equals(readFileSync(join(VECTORS_DIR, 'sample.pb')))).toBe(true);
});
