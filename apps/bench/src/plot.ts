/**
 * The dictionary loads as a picture (docs/BENCHMARKS.md embeds it): acknowledgements per second and latency (p50
 * solid, p99 dashed) against the number of clients, one line per format and one for the echo baseline. Plain SVG
 * written by hand: two panels, logarithmic axes, no plotting library. Pure: figures in, text out.
 */

/** One line of the plot: a name and its figures at each client count. */
export interface Curve {
  name: string;
  /** A CSS colour. */
  color: string;
  points: ReadonlyArray<{ clients: number; perSecond: number; p50Ms: number; p99Ms: number }>;
  /** Drawn thinner and grey-dashed in the rate panel: the baseline. */
  baseline?: boolean;
}

export interface PlotOptions {
  title: string;
  /** A horizontal line in the rate panel, e.g. the target rate. */
  targetPerSecond?: number;
  /** A horizontal line in the latency panel, e.g. the p99 target. */
  targetMs?: number;
}

const W = 460;
const H = 300;
const M = { left: 64, right: 16, top: 34, bottom: 44 };

/** The SVG text of the plot. */
export function curvesSvg(curves: readonly Curve[], options: PlotOptions): string {
  const clients = [...new Set(curves.flatMap((c) => c.points.map((p) => p.clients)))].sort((a, b) => a - b);
  const rates = curves.flatMap((c) => c.points.map((p) => p.perSecond)).filter((v) => v > 0);
  const latencies = curves.flatMap((c) => c.points.flatMap((p) => [p.p50Ms, p.p99Ms])).filter((v) => v > 0);
  if (options.targetPerSecond) rates.push(options.targetPerSecond);
  if (options.targetMs) latencies.push(options.targetMs);
  const x = logScale(Math.min(...clients, 1), Math.max(...clients, 2), M.left, W - M.right);
  const rateAxis = decades(rates);
  const msAxis = decades(latencies);
  const yRate = logScale(rateAxis.lo, rateAxis.hi, H - M.bottom, M.top);
  const yMs = logScale(msAxis.lo, msAxis.hi, H - M.bottom, M.top);

  const panel = (
    dx: number,
    title: string,
    axis: { lo: number; hi: number },
    y: (v: number) => number,
    unit: (v: number) => string,
    lines: string[],
  ): string =>
    [
      `<g transform="translate(${dx},0)">`,
      `<text x="${(M.left + W - M.right) / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
      ...ticks(axis).map(
        (v) =>
          `<line x1="${M.left}" x2="${W - M.right}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#ddd"/>` +
          `<text x="${M.left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${esc(unit(v))}</text>`,
      ),
      ...clients.map(
        (c) =>
          `<line x1="${f(x(c))}" x2="${f(x(c))}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>` +
          `<text x="${f(x(c))}" y="${H - M.bottom + 16}" text-anchor="middle">${c}</text>`,
      ),
      `<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle">clients</text>`,
      `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#888"/>`,
      ...lines,
      '</g>',
    ].join('\n');

  const path = (pts: Array<[number, number]>, color: string, dash: string, width: number): string => {
    const dashed = dash ? ` stroke-dasharray="${dash}"` : '';
    const points = pts.map(([a, b]) => `${f(a)},${f(b)}`).join(' ');
    const dots = pts.map(([a, b]) => `<circle cx="${f(a)}" cy="${f(b)}" r="2.5" fill="${color}"/>`).join('');
    return `<polyline fill="none" stroke="${color}" stroke-width="${width}"${dashed} points="${points}"/>${dots}`;
  };
  const target = (v: number | undefined, y: (v: number) => number, label: string): string[] =>
    v
      ? [
          `<line x1="${M.left}" x2="${W - M.right}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#c00" stroke-dasharray="2 3"/>`,
          `<text x="${W - M.right - 4}" y="${f(y(v) - 4)}" text-anchor="end" fill="#c00">${esc(label)}</text>`,
        ]
      : [];

  const rateLines = curves.map((c) =>
    path(
      c.points.filter((p) => p.perSecond > 0).map((p) => [x(p.clients), yRate(p.perSecond)]),
      c.color,
      c.baseline ? '5 3' : '',
      c.baseline ? 1.2 : 2,
    ),
  );
  const msLines = curves.flatMap((c) => [
    path(
      c.points.filter((p) => p.p50Ms > 0).map((p) => [x(p.clients), yMs(p.p50Ms)]),
      c.color,
      '',
      c.baseline ? 1.2 : 2,
    ),
    path(
      c.points.filter((p) => p.p99Ms > 0).map((p) => [x(p.clients), yMs(p.p99Ms)]),
      c.color,
      '4 3',
      c.baseline ? 1 : 1.5,
    ),
  ]);
  const legend = curves.map(
    (c, i) =>
      `<g transform="translate(${M.left + i * 120},${H + 14})"><line x1="0" x2="22" y1="0" y2="0" stroke="${c.color}" stroke-width="2"${
        c.baseline ? ' stroke-dasharray="5 3"' : ''
      }/><text x="28" y="4">${esc(c.name)}</text></g>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 50}" viewBox="0 0 ${2 * W} ${H + 50}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(options.title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    panel(0, 'acknowledgements per second', rateAxis, yRate, compact, [
      ...target(options.targetPerSecond, yRate, `target ${compact(options.targetPerSecond ?? 0)}/s`),
      ...rateLines,
    ]),
    panel(W, 'latency, ms (p50 solid, p99 dashed)', msAxis, yMs, (v) => `${v}`, [
      ...target(options.targetMs, yMs, `p99 target ${options.targetMs ?? 0} ms`),
      ...msLines,
    ]),
    ...legend,
    `<text x="${2 * W - 8}" y="${H + 40}" text-anchor="end" fill="#666">${esc(options.title)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/** The decades around `values` (at least one). */
function decades(values: number[]): { lo: number; hi: number } {
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 1e9)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, lo * 10)));
  return { lo, hi: hi > lo ? hi : lo * 10 };
}

/** 1, 2, 5 times each power of ten within the axis (only powers of ten when there are many decades). */
function ticks(axis: { lo: number; hi: number }): number[] {
  const out: number[] = [];
  const many = Math.log10(axis.hi / axis.lo) > 3;
  for (let d = axis.lo; d <= axis.hi * 1.0001; d *= 10) {
    for (const m of many ? [1] : [1, 2, 5]) {
      const v = Number((d * m).toPrecision(3));
      if (v <= axis.hi * 1.0001) out.push(v);
    }
  }
  return out;
}

function logScale(lo: number, hi: number, from: number, to: number): (v: number) => number {
  const a = Math.log(lo);
  const span = Math.log(hi) - a || 1;
  return (v) => from + ((Math.log(v) - a) / span) * (to - from);
}

/** 20000 → `20k`, 1500000 → `1.5M`, 0.5 → `0.5`. */
function compact(v: number): string {
  if (v >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (v >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return `${Number(v.toPrecision(3))}`;
}

function f(v: number): string {
  return v.toFixed(1);
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
