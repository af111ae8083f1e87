/**
 * Other implementations read what we write: xmllint parses every XML document we produce, and protoc reads our
 * binary as a google.protobuf.Struct (and writes one we read). Real child processes, on the golden vectors and
 * on generated dictionaries.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeProtobuf, encodeProtobuf, encodeXml } from '../../src/dict/index';
import { VECTORS_DIR, dictArb, safeNumberArb } from './dict-helpers';

const PROTOC_ARGS = ['-I/usr/include', '--decode=google.protobuf.Struct', 'google/protobuf/struct.proto'];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dict-tools-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('xmllint', () => {
  it('accepts the golden XML vector', () => {
    const result = spawnSync('xmllint', ['--noout', join(VECTORS_DIR, 'sample.xml')], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('accepts 300 generated documents', () => {
    const files = fc.sample(dictArb(), { numRuns: 300, seed: 42 }).map((value, i) => {
      const file = join(dir, `doc${i}.xml`);
      writeFileSync(file, encodeXml(value));
      return file;
    });
    const result = spawnSync('xmllint', ['--noout', ...files], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('reads the same text and keys we do', () => {
    const file = join(dir, 'text.xml');
    writeFileSync(file, encodeXml({ 'k\t"<&>\n': ' a\r\nb ' }));
    const out = execFileSync('xmllint', ['--xpath', 'concat(/dict/string/@key, "|", /dict/string)', file], {
      encoding: 'utf8',
    });
    expect(out).toBe('k\t"<&>\n| a\r\nb \n'); // xmllint ends its output with a newline
  });
});

describe('protoc', () => {
  const decodeWithProtoc = (bytes: Uint8Array): string =>
    execFileSync('protoc', PROTOC_ARGS, { input: bytes, encoding: 'utf8' });

  it('decodes the golden binary vector as a Struct', () => {
    const out = decodeWithProtoc(readFileSync(join(VECTORS_DIR, 'sample.pb')));
    expect(out).toContain('key: "__proto__"');
    expect(out).toContain('number_value: -0');
    expect(out).toContain('string_value: "bell\\007 and back\\\\slash"');
    expect(out).toContain('list_value {');
    expect(out).toContain('struct_value {');
    expect(out).toContain('null_value: NULL_VALUE');
  });

  it('decodes 25 generated dictionaries', () => {
    for (const value of fc.sample(dictArb(safeNumberArb), { numRuns: 25, seed: 7 })) {
      expect(() => decodeWithProtoc(encodeProtobuf(value))).not.toThrow();
    }
  });

  it('writes a Struct from text format that we decode', () => {
    const textFormat =
      'fields { key: "n" value { number_value: -0.5 } } fields { key: "l" value { list_value { values { string_value: "é" } values { null_value: NULL_VALUE } } } } ' +
      'fields { key: "o" value { struct_value { fields { key: "t" value { bool_value: true } } } } }';
    const bytes = execFileSync(
      'protoc',
      ['-I/usr/include', '--encode=google.protobuf.Struct', 'google/protobuf/struct.proto'],
      {
        input: textFormat,
      },
    );
    const decoded = decodeProtobuf(new Uint8Array(bytes));
    expect(decoded).toEqual({ n: -0.5, l: ['é', null], o: { t: true } });
  });
});
