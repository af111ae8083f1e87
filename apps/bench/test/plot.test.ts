import { curvesSvg, type Curve } from '../src/plot';

const points = [1, 4, 16, 32, 64].map((clients, i) => ({
  clients,
  perSecond: 1000 * (i + 1),
  p50Ms: 0.2 * (i + 1),
  p99Ms: 1.5 * (i + 1),
}));
const curves: Curve[] = [
  { name: 'ours, json', color: '#1f77b4', points },
  { name: 'echo <baseline> & co', color: '#777', baseline: true, points },
];

describe('curvesSvg', () => {
  const svg = curvesSvg(curves, { title: 'durable dicts', targetPerSecond: 20_000, targetMs: 5 });

  it('is one svg element with a line per curve in the rate panel and two (p50, p99) in the latency panel', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(curves.length * 3);
    // Every line has a point per client count.
    for (const line of svg.match(/points="[^"]*"/g) ?? []) expect(line.split(' ')).toHaveLength(5);
  });

  it('labels the client counts and the targets, and escapes names', () => {
    for (const n of ['1', '4', '16', '32', '64']) expect(svg).toContain(`>${n}</text>`);
    expect(svg).toContain('target 20k/s');
    expect(svg).toContain('p99 target 5 ms');
    expect(svg).toContain('echo &lt;baseline&gt; &amp; co');
    expect(svg).not.toContain('<baseline>');
  });

  it('puts a higher rate higher up (y grows downwards) and spreads the counts left to right', () => {
    const rate = (svg.match(/points="([^"]*)"/) as RegExpMatchArray)[1] as string;
    const xy = rate.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
    for (let i = 1; i < xy.length; i++) {
      expect((xy[i] as [number, number])[0]).toBeGreaterThan((xy[i - 1] as [number, number])[0]);
      expect((xy[i] as [number, number])[1]).toBeLessThan((xy[i - 1] as [number, number])[1]);
    }
  });
});
