import { Better, formatMarkdownTable, formatRatio, formatTable, type Row } from '../src/table';
import { BEGIN, END, replaceSection, resultsSection } from '../src/report';
import { quantile } from '../src/stats';

const rows: Row[] = [
  {
    name: 'large file 1 GiB',
    ours: '0.70 GiB/s',
    baseline: 'socat 0.95 GiB/s',
    ratio: 0.7368,
    better: Better.Higher,
    target: 'ratio ≥ 0.70',
    met: true,
  },
  {
    name: 'encode xml',
    ours: '233/s',
    baseline: 'JSON.stringify 17,941/s',
    ratio: 0.013,
    better: Better.Higher,
    target: '',
  },
  { name: 'peak RSS', ours: '300 MiB', baseline: 'n/a | none', better: Better.Lower, target: '< 256 MiB', met: false },
];

describe('formatTable', () => {
  it('aligns every column, counting ≥ and × as one character', () => {
    const lines = formatTable(rows).split('\n');
    expect(lines).toHaveLength(2 + rows.length);
    // The ratio column starts at the same offset on every line (≥, × and — are one UTF-16 unit each).
    const ratioCol = (lines[0] as string).indexOf('ratio');
    expect((lines[2] as string).indexOf('0.74×')).toBe(ratioCol);
    expect((lines[3] as string).indexOf('0.013×')).toBe(ratioCol);
    expect((lines[4] as string).indexOf('—', (lines[4] as string).indexOf('n/a'))).toBe(ratioCol);
    expect(lines[4]).toMatch(/—\s+< 256 MiB\s+NO$/);
    expect(lines[2]).toMatch(/yes$/);
  });

  it('writes Markdown with escaped pipes and a dash for what is missing', () => {
    const md = formatMarkdownTable(rows).split('\n');
    expect(md[0]).toBe('| benchmark | ours | baseline (same run) | ratio | target | met |');
    expect(md[1]).toBe('|---|---|---|---|---|---|');
    expect(md[3]).toContain('| 0.013× | — | — |');
    expect(md[4]).toContain('n/a \\| none');
  });
});

describe('formatRatio', () => {
  it.each([
    [undefined, '—'],
    [Number.NaN, '—'],
    [0.7368, '0.74×'],
    [0.0123, '0.012×'],
    [24.3, '24.3×'],
    [1234.4, '1,234×'],
  ])('%p → %s', (ratio, text) => expect(formatRatio(ratio)).toBe(text));
});

describe('replaceSection', () => {
  const section = `${BEGIN}\nnew table\n${END}`;
  it('replaces only what lies between the markers', () => {
    const page = `# Benchmarks\n\nintro\n\n${BEGIN}\nold table\n${END}\n\n## Profiles\nkept\n`;
    expect(replaceSection(page, section)).toBe(`# Benchmarks\n\nintro\n\n${section}\n\n## Profiles\nkept\n`);
  });
  it('appends the section to a page without markers', () => {
    expect(replaceSection('# Benchmarks\n', section)).toBe(`# Benchmarks\n\n${section}\n`);
  });
});

describe('resultsSection', () => {
  const machine = { uname: 'Linux', cpu: 'x', cores: 2, memory: '1 GiB', node: 'v20', disk: '/tmp', tools: 'socat' };
  it('embeds the plot of the dictionary loads under the table when there is one', () => {
    const section = resultsSection(rows, machine, new Date('2026-12-03T00:00:00Z'), 'pnpm bench', 'bench-dicts.svg');
    expect(section.startsWith(BEGIN)).toBe(true);
    expect(section.endsWith(END)).toBe(true);
    expect(section).toMatch(/^!\[durable dictionaries[^\]]*\]\(bench-dicts\.svg\)$/m);
    expect(section.indexOf('bench-dicts.svg')).toBeGreaterThan(section.indexOf('| large file 1 GiB'));
  });
  it('has no image without a plot', () => {
    expect(resultsSection(rows, machine, new Date(), 'pnpm bench')).not.toContain('![');
  });
});

describe('quantile', () => {
  it('uses the nearest rank', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(quantile(new Float64Array([7]), 0.99)).toBe(7);
    expect(quantile(new Float64Array(0), 0.5)).toBeNaN();
  });
});
