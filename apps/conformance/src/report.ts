/**
 * The report: one line per case as it ends (number, outcome, title; the reason under a failure or a skip), a
 * summary, and the same as one JSON document for machines. The exit code says whether every case passed.
 */
import type { CaseResult } from './case';

export const ExitCode = {
  /** Every case ran and passed. */
  Passed: 0,
  /** At least one case failed. */
  Failed: 1,
  /** Bad flags (printed with the usage). */
  Usage: 2,
  /** No case failed, but some were skipped: the run does not show full conformance. */
  Skipped: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface Summary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  ms: number;
}

export interface Report {
  /** `server` (cases against a server) or `client` (a client against the scripted server). */
  mode: 'server' | 'client';
  /** What was checked: `HOST:PORT`, or the client's commands. */
  target: string;
  startedAt: string;
  results: CaseResult[];
  summary: Summary;
}

const MARK = { pass: 'pass', fail: 'FAIL', skip: 'skip' } as const;

/** The line (and the indented reason) for one case. */
export function caseLines(r: CaseResult): string {
  const head = `${r.id.padEnd(8)} ${MARK[r.outcome]}  ${r.title}`;
  if (r.outcome === 'pass') return `${head}\n`;
  const reason = (r.reason ?? '').split('\n').map((l) => `           ${l}`);
  const cite = r.outcome === 'fail' ? [`           spec: ${r.spec}`] : [];
  const pending = r.reconcile && r.outcome === 'fail' ? [`           known: ${r.reconcile}`] : [];
  return `${[head, ...reason, ...cite, ...pending].join('\n')}\n`;
}

export function summarize(results: readonly CaseResult[], ms: number): Summary {
  const count = (o: CaseResult['outcome']): number => results.filter((r) => r.outcome === o).length;
  return { total: results.length, passed: count('pass'), failed: count('fail'), skipped: count('skip'), ms };
}

export function summaryLine(s: Summary): string {
  return `\n${s.total} cases: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (${(s.ms / 1000).toFixed(1)} s)\n`;
}

export function exitCodeOf(s: Summary): ExitCode {
  if (s.failed > 0) return ExitCode.Failed;
  if (s.skipped > 0) return ExitCode.Skipped;
  return ExitCode.Passed;
}
