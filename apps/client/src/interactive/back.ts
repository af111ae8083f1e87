/** Going back one step at a question (Esc, or an empty answer where an answer is required). */

/** Esc at a question: not an error to report, a step back for the flow that asked. */
export class GoBack extends Error {
  readonly code = 'ERR_BACK';
  constructor() {
    super('back');
    this.name = 'GoBack';
  }
}

/** What `orBack` gives when the person went back. */
export const BACK = Symbol('back');
export type Back = typeof BACK;

/** Runs one question (or a whole step); Esc inside it gives `BACK` instead of an error. */
export async function orBack<T>(step: Promise<T>): Promise<T | Back> {
  try {
    return await step;
  } catch (err) {
    if (err instanceof GoBack) return BACK;
    throw err;
  }
}
