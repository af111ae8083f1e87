/**
 * What a conformance case is: a number, a title, the sentence of docs/PROTOCOL.md it checks, and a check that
 * passes, fails (a Failure saying what was expected and what came) or is skipped (a Skip saying why). Cases are
 * grouped in sections that follow the spec's table of contents, one file per section (as h2spec does).
 */

/** A case whose check could not run here (a token not given, a limit too large to reach): why. */
export class Skip extends Error {
  readonly code = 'SKIP';
  constructor(reason: string) {
    super(reason);
    this.name = 'Skip';
  }
}

/** The implementation did something other than the spec says: what was expected, and what came. */
export class Failure extends Error {
  readonly code = 'FAIL';
  constructor(message: string) {
    super(message);
    this.name = 'Failure';
  }
}

export interface Case<C> {
  /** `4.3.2`: section 4, its third part (a subsection, or a paragraph in order), second case. */
  id: string;
  title: string;
  /** The sentence of docs/PROTOCOL.md the case checks, quoted (`…` where it is cut). */
  spec: string;
  /**
   * Set when the case checks a sentence that is being changed or that our server does not follow today (the
   * items of issue #13): which item. Grep for `reconcile:` to find them all.
   */
  reconcile?: string;
  run(ctx: C): Promise<void>;
}

export interface Section<C> {
  /** `4.3`, or `2` for a section without parts. */
  id: string;
  /** The heading in docs/PROTOCOL.md (for §4, the paragraph's bold name). */
  title: string;
  cases: readonly Case<C>[];
}

export type Outcome = 'pass' | 'fail' | 'skip';

export interface CaseResult {
  id: string;
  section: string;
  title: string;
  spec: string;
  outcome: Outcome;
  /** Why it failed or was skipped. */
  reason?: string;
  reconcile?: string;
  ms: number;
}

/** Fails unless `condition`; `message` says what was expected and what came. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new Failure(typeof message === 'string' ? message : message());
}

/** A value cut short for a message: JSON, at most `max` characters. */
export function show(value: unknown, max = 200): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
