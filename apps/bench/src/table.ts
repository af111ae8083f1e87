/**
 * The result table: one row per measurement, with our figure, the baseline's figure from the same run, their
 * ratio, the target and whether it is met. Printed aligned on a terminal and as Markdown for docs/BENCHMARKS.md.
 */

/** Which way is better for a row's figures: throughput wants more, latency and memory want less. */
export const Better = { Higher: 'higher', Lower: 'lower' } as const;
export type Better = (typeof Better)[keyof typeof Better];

export interface Row {
  /** What was measured, e.g. `large file 1 GiB`. */
  name: string;
  /** Our figure, formatted with its unit. */
  ours: string;
  /** What the baseline is and its figure, e.g. `socat 0.95 GiB/s`. */
  baseline: string;
  /** ours ÷ baseline on the raw figures; undefined when there is nothing to divide. */
  ratio?: number;
  /** Which way is better for this row's figures. */
  better: Better;
  /** The target in words, e.g. `ratio ≥ 0.70`; empty when the row has none. */
  target: string;
  /** Whether the target is met; undefined when the row has no target. */
  met?: boolean;
  /** Extra facts shown under the table (checks done, what the figure includes). */
  note?: string;
}

export const TABLE_HEADER = ['benchmark', 'ours', 'baseline (same run)', 'ratio', 'target', 'met'] as const;

/** `0.734` → `0.73`, `12.3` → `12.3`, `1234` → `1,234`: two significant decimals without hiding small ratios. */
export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '—';
  if (ratio >= 100) return `${Math.round(ratio).toLocaleString('en-US')}×`;
  if (ratio >= 10) return `${ratio.toFixed(1)}×`;
  if (ratio >= 0.1) return `${ratio.toFixed(2)}×`;
  return `${ratio.toFixed(3)}×`;
}

export function formatMet(met: boolean | undefined): string {
  if (met === undefined) return '—';
  return met ? 'yes' : 'NO';
}

/** The cells of one row, in `TABLE_HEADER` order. */
export function rowCells(row: Row): string[] {
  return [row.name, row.ours, row.baseline, formatRatio(row.ratio), row.target || '—', formatMet(row.met)];
}

/**
 * Lays rows out as aligned text columns separated by two spaces, with a rule under the header. Numbers are not
 * right-aligned on purpose: each cell carries its own unit and is read as a phrase.
 */
export function formatTable(rows: readonly Row[]): string {
  const body = rows.map(rowCells);
  const header = [...TABLE_HEADER];
  const widths = header.map((h, c) => Math.max(width(h), ...body.map((r) => width(r[c] ?? ''))));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : pad(cell, widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...body.map(line)].join('\n');
}

/** The same rows as a GitHub Markdown table. Pipes inside cells are escaped. */
export function formatMarkdownTable(rows: readonly Row[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const line = (cells: readonly string[]): string => `| ${cells.map(esc).join(' | ')} |`;
  return [
    line([...TABLE_HEADER]),
    `|${TABLE_HEADER.map(() => '---').join('|')}|`,
    ...rows.map((r) => line(rowCells(r))),
  ].join('\n');
}

/** Display width: code points, so that `≥`, `×` and `—` count as one column. */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number): string {
  return s + ' '.repeat(Math.max(0, w - width(s)));
}
