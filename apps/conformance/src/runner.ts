/**
 * Runs cases one after another, each under a time limit, and turns what each check threw into a result: pass,
 * fail (a Failure, or any other error: the check itself broke) or skip (a Skip). Cases can be picked by number.
 */
import { Skip, type Case, type CaseResult, type Section } from './case';

export interface RunOptions {
  /** Only cases whose number is one of these or starts with one of them and a dot (`4.3` picks `4.3.2`). */
  only?: readonly string[];
  /** Longest a case may take, in milliseconds. */
  caseTimeoutMs: number;
  /** Called as each case ends, for a report that streams. */
  onResult?: (result: CaseResult) => void;
}

/** True when case `id` is picked by `only` (everything when `only` is empty). */
export function picked(id: string, only: readonly string[] | undefined): boolean {
  if (!only || only.length === 0) return true;
  return only.some((p) => id === p || id.startsWith(`${p}.`));
}

export async function runSections<C>(
  sections: readonly Section<C>[],
  ctx: C,
  options: RunOptions,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const section of sections) {
    for (const c of section.cases) {
      if (!picked(c.id, options.only)) continue;
      const result = await runCase(c, section, ctx, options.caseTimeoutMs);
      results.push(result);
      options.onResult?.(result);
    }
  }
  return results;
}

async function runCase<C>(c: Case<C>, section: Section<C>, ctx: C, timeoutMs: number): Promise<CaseResult> {
  const started = Date.now();
  const base = {
    id: c.id,
    section: section.id,
    title: c.title,
    spec: c.spec,
    ...(c.reconcile !== undefined ? { reconcile: c.reconcile } : {}),
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the case did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([c.run(ctx), timeout]);
    return { ...base, outcome: 'pass', ms: Date.now() - started };
  } catch (err) {
    const outcome = err instanceof Skip ? 'skip' : 'fail';
    const reason = err instanceof Error ? err.message : String(err);
    return { ...base, outcome, reason, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** Every case number is unique and belongs to its section: a check of the case lists themselves. */
export function checkNumbering<C>(sections: readonly Section<C>[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const section of sections) {
    for (const c of section.cases) {
      if (seen.has(c.id)) problems.push(`${c.id} is used twice`);
      seen.add(c.id);
      const rest = c.id.startsWith(`${section.id}.`) ? c.id.slice(section.id.length + 1) : '';
      if (!/^[1-9]\d*$/.test(rest)) problems.push(`${c.id} is not a case of section ${section.id}`);
    }
  }
  return problems;
}
