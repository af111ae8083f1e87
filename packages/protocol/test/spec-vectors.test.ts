/**
 * The vector files describe themselves and the spec names them (spec/README.md, docs/PROTOCOL.md §8): each says
 * what it is and which section it illustrates, that section exists, and §8 names every file. The bytes themselves
 * are checked by test/wire/vectors.test.ts and test/dict/vectors.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PROTOCOL_MD,
  VECTORS_DIR,
  readJson,
  vectorFiles,
  type Described,
  type DictDecodingVector,
} from './spec-vectors';

const spec = readFileSync(PROTOCOL_MD, 'utf8');
const section8 = spec.slice(spec.indexOf('\n## 8.'));

/** The section numbers with a heading in docs/PROTOCOL.md: `## 4. Session` gives 4, `### 5.4 XML` gives 5.4. */
const headings = new Set([...spec.matchAll(/^#{2,3} (\d+(?:\.\d+)*)\.? /gm)].map((m) => m[1]));

const files = vectorFiles();
/** Files that describe themselves: every JSON file but the values and encodings a descriptor points to. */
const descriptors = files.filter((f) => f.endsWith('.json') && !f.startsWith('dict/sample.'));

test('there are vectors of each kind', () => {
  expect(files).toEqual(
    expect.arrayContaining(['frames/hello.json', 'sessions/client-to-server.json', 'dict/sample.vector.json']),
  );
  expect(descriptors).toContain('dict/decoding.json');
});

test.each([...descriptors, 'dict/sample.vector.json'])('%s says what it is and which section it illustrates', (f) => {
  const v = readJson<Described>(join(VECTORS_DIR, f));
  expect(['wire', 'dict-encodings', 'dict-decoding']).toContain(v.vector);
  expect(v.description).toMatch(/\w{3,}/);
  expect(v.description).not.toMatch(/^TODO/);
  expect(headings).toContain(v.section);
});

test('each decoding case names a section that exists', () => {
  const decoding = readJson<DictDecodingVector>(join(VECTORS_DIR, 'dict', 'decoding.json'));
  for (const c of decoding.cases) expect([c.name, headings.has(c.section)]).toEqual([c.name, true]);
});

test.each(files)('docs/PROTOCOL.md §8 names %s', (f) => {
  expect(section8).toContain(f);
});
