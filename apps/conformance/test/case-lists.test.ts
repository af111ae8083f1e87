/**
 * The case lists themselves: numbers unique and inside their section, counted 1, 2, 3 … in each section, sections
 * in the order of docs/PROTOCOL.md, and each case's `spec` a quote of the spec: every piece between `…` (or `...`)
 * is in docs/PROTOCOL.md, word for word (a case whose sentence was reworded fails here until its quote follows).
 * And every frame vector a client sends is sent by a §8 case, so that a new vector is not forgotten.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Section } from '../src/case';
import { CLIENT_SECTIONS } from '../src/client/sections';
import { checkNumbering } from '../src/runner';
import { serverSections } from '../src/server/sections';
import { readVectors } from '../src/vectors';

const spec = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'PROTOCOL.md'), 'utf8').replace(/\s+/g, ' ');
const vectors = readVectors();
const lists: [string, readonly Section<unknown>[]][] = [
  ['server', serverSections(vectors) as readonly Section<unknown>[]],
  ['client', CLIENT_SECTIONS as readonly Section<unknown>[]],
];

/** The pieces of a quote: cut at `…`, without a leading `§N:` that says where it is from, or wrapping (). */
function pieces(quote: string): string[] {
  return quote
    .split(/…|\.\.\./)
    .map((p) =>
      p
        .replace(/^\s*\(?§[\d.]+:?\s*/, '')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .map((p) => p.replace(/^\((.*)\)$/, '$1').replace(/^[;,.\s]+|[;,\s]+$/g, ''))
    .filter((p) => p.length > 0);
}

const order = (id: string): number[] => id.split('.').map(Number);
const before = (a: number[], b: number[]): boolean => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? -1) !== (b[i] ?? -1)) return (a[i] ?? -1) < (b[i] ?? -1);
  }
  return false;
};

describe.each(lists)('%s cases', (_name, sections) => {
  test('numbers are unique and belong to their section', () => {
    expect(checkNumbering(sections)).toEqual([]);
  });

  test('cases are counted 1, 2, 3 … in each section, in order', () => {
    for (const section of sections) {
      const numbers = section.cases.map((c) => c.id.slice(section.id.length + 1));
      expect([section.id, numbers]).toEqual([section.id, numbers.map((_, i) => String(i + 1))]);
    }
  });

  test('sections follow the table of contents', () => {
    for (let i = 1; i < sections.length; i++) {
      const [a, b] = [sections[i - 1] as Section<unknown>, sections[i] as Section<unknown>];
      expect([a.id, b.id, before(order(a.id), order(b.id))]).toEqual([a.id, b.id, true]);
    }
  });

  test('each case quotes the sentence of docs/PROTOCOL.md it checks', () => {
    const missing: string[] = [];
    for (const section of sections) {
      for (const c of section.cases) {
        for (const piece of pieces(c.spec)) if (!spec.includes(piece)) missing.push(`${c.id}: ${piece}`);
        if (pieces(c.spec).length === 0) missing.push(`${c.id}: no quote`);
      }
    }
    expect(missing).toEqual([]);
  });
});

test('every frame vector a client sends is sent by a case of §8', () => {
  const golden = serverSections(vectors).find((s) => s.id === '8');
  const titles = (golden?.cases ?? []).map((c) => c.title).join('\n');
  const sent = [...vectors.frames].filter(([, v]) => v.direction !== 'server-to-client').map(([name]) => name);
  expect(sent.length).toBeGreaterThan(10);
  expect(sent.filter((name) => !titles.includes(`frames/${name}.json`))).toEqual([]);
});
