#!/usr/bin/env node
/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. from `pnpm bench -- --cpu-prof DIR`): self time by
 * function and by source file, idle and garbage collection apart. What docs/BENCHMARKS.md quotes comes from here.
 *
 *   node apps/bench/dist/profile-summary.js DIR/server-dicts.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Summary {
  totalMs: number;
  byFunction: Array<{ name: string; ms: number }>;
  byFile: Array<{ name: string; ms: number }>;
}

/** Where a source file belongs: a package under node_modules, a workspace file, or Node's own code. */
function fileOf(url: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return url;
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm:${pkg[1]}`;
  const ws = /\/(apps|packages)\/(.+)$/.exec(url);
  if (ws) return `${ws[1]}/${ws[2]}`;
  return url;
}

export function summarise(profile: CpuProfile): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    totalUs += us;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = fileOf(url);
    const name =
      url === '' ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const group = url === '' && functionName.startsWith('(') ? functionName : where;
    file.set(group, (file.get(group) ?? 0) + us);
  });
  const sorted = (m: Map<string, number>): Array<{ name: string; ms: number }> =>
    [...m.entries()].map(([name, us]) => ({ name, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
  return { totalMs: totalUs / 1000, byFunction: sorted(fn), byFile: sorted(file) };
}

export function formatSummary(s: Summary, top: number): string {
  const busy = s.totalMs - (s.byFile.find((f) => f.name === '(idle)')?.ms ?? 0);
  const pct = (ms: number): string => `${((100 * ms) / s.totalMs).toFixed(1).padStart(5)}%`;
  const lines = [
    `profile: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s not idle (${pct(busy).trim()})`,
    '',
    'self time by file:',
  ];
  for (const f of s.byFile.slice(0, top)) lines.push(`  ${pct(f.ms)}  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  lines.push('', 'self time by function:');
  for (const f of s.byFunction.slice(0, top))
    lines.push(`  ${pct(f.ms)}  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  return lines.join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  if (file === undefined || !Number.isInteger(top) || top <= 0) {
    process.stderr.write('usage: profile-summary FILE.cpuprofile [--top N]\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(`${formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile), top)}\n`);
  }
}
