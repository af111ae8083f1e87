/**
 * A Prompter that answers from a script and fails on any question the test did not expect, in the order it
 * expected (the changesets `add.test.ts` way). What the flow tells the person is collected in `said`/`warned`.
 */
import { InterruptedError } from '../../src/errors';
import { GoBack } from '../../src/interactive/back';
import type { Choice, Prompter, Question, Validate } from '../../src/prompts';
import type { Ui } from '../../src/interactive/ui';

/** An answer; `CANCEL` stands for Ctrl-C at that prompt, `ESC` for Esc. */
export type Answer = string | boolean | string[];
export const CANCEL = Symbol('cancel');
export const ESC = Symbol('esc');
export type Step = [name: string, answer: Answer | typeof CANCEL | typeof ESC];

export class ScriptedPrompter implements Prompter, Ui {
  readonly said: string[] = [];
  readonly warned: string[] = [];
  /** Every question asked, by name, in order. */
  readonly asked: string[] = [];
  /** The choices offered at each select, by question name (last time asked). */
  readonly offered = new Map<string, readonly Choice[]>();
  #steps: Step[];

  constructor(steps: Step[]) {
    this.#steps = [...steps];
  }

  /** Fails unless every scripted answer was used. */
  assertDone(): void {
    if (this.#steps.length > 0) throw new Error(`script not finished; next expected question: ${this.#steps[0]?.[0]}`);
  }

  info(text: string): void {
    this.said.push(text);
  }

  warn(text: string): void {
    this.warned.push(text);
  }

  #next(q: Question): Answer {
    this.asked.push(q.name);
    const step = this.#steps.shift();
    if (!step) throw new Error(`unexpected question ${q.name} (${q.message}): the script has no more answers`);
    const [name, answer] = step;
    if (name !== q.name) throw new Error(`unexpected question ${q.name} (${q.message}); the script expected ${name}`);
    if (answer === CANCEL) throw new InterruptedError('cancelled at the prompt');
    if (answer === ESC) throw new GoBack();
    return answer;
  }

  /**
   * As at the terminal, a rule runs inside the question: a refused answer is told (in `warned`) and the same
   * question is asked again, so the script's next step must answer it.
   */
  async #validated(q: Question & { validate?: Validate }, read: () => string): Promise<string> {
    for (;;) {
      const a = read();
      const error = await q.validate?.(a);
      if (error === undefined) return a;
      this.warned.push(error);
    }
  }

  async text(q: Question & { initial?: string; validate?: Validate }): Promise<string> {
    return this.#validated(q, () => {
      const a = this.#next(q);
      if (typeof a !== 'string') throw new Error(`${q.name}: scripted answer must be a string`);
      return a === '' && q.initial !== undefined ? q.initial : a;
    });
  }

  async secret(q: Question & { validate?: Validate }): Promise<string> {
    return this.#validated(q, () => String(this.#next(q)));
  }

  async select<T extends string>(q: Question & { choices: readonly Choice<T>[]; initial?: T }): Promise<T> {
    this.offered.set(q.name, q.choices);
    const a = this.#next(q);
    const picked = q.choices.find((c) => c.name === a);
    if (!picked) throw new Error(`${q.name}: ${String(a)} is not among ${q.choices.map((c) => c.name).join(', ')}`);
    if (picked.disabled !== undefined) throw new Error(`${q.name}: ${String(a)} is disabled (${picked.disabled})`);
    return picked.name;
  }

  async confirm(q: Question & { initial?: boolean }): Promise<boolean> {
    const a = this.#next(q);
    if (typeof a !== 'boolean') throw new Error(`${q.name}: scripted answer must be a boolean`);
    return a;
  }

  async lines(q: Question): Promise<string[]> {
    const a = this.#next(q);
    if (!Array.isArray(a)) throw new Error(`${q.name}: scripted answer must be an array of lines`);
    return a;
  }

  async editor(q: Question & { editor: string; initial?: string }): Promise<string> {
    return String(this.#next(q));
  }
}
