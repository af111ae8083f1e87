/**
 * docs/BENCHMARKS.md: a full run replaces the part between the two markers (the table, the machine, the notes)
 * and leaves the rest of the page (how to read it, the profiles) as written.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { machineLines, type Machine } from './machine';
import { formatMarkdownTable, type Row } from './table';

export const BEGIN = '<!-- bench:results:begin (written by `pnpm bench`; edits inside are overwritten) -->';
export const END = '<!-- bench:results:end -->';

export function resultsSection(
  rows: readonly Row[],
  machine: Machine,
  when: Date,
  command: string,
  plot?: string,
): string {
  const notes = rows.filter((r) => r.note).map((r) => `- *${r.name}*: ${r.note}`);
  const figure = plot
    ? [
        `![durable dictionaries: acknowledgements per second and p50 / p99 latency against 1 to 64 clients, per format, with the echo baseline](${plot})`,
        '',
      ]
    : [];
  return [
    BEGIN,
    '',
    `Run on ${when.toISOString().replace(/\.\d+Z$/, 'Z')} with \`${command}\`:`,
    '',
    ...machineLines(machine),
    '',
    formatMarkdownTable(rows),
    '',
    ...figure,
    ...notes,
    '',
    END,
  ].join('\n');
}

/** Puts `section` between the markers of `page`, or appends it when the page has none. */
export function replaceSection(page: string, section: string): string {
  const begin = page.indexOf(BEGIN.slice(0, 24));
  const end = page.indexOf(END);
  if (begin >= 0 && end > begin) return page.slice(0, begin) + section + page.slice(end + END.length);
  return `${page.trimEnd()}\n\n${section}\n`;
}

export async function writeResults(file: string, section: string): Promise<void> {
  const page = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '# Benchmarks\n';
    throw e;
  });
  await writeFile(file, replaceSection(page, section));
}
