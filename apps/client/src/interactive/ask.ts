/** Small loops over a Prompter: ask with a rule the prompt itself enforces, and the passphrase pair. */
import type { Prompter, Question } from '../prompts';
import { GoBack } from './back';
import type { Ui } from './ui';

export type CheckResult<T> = { value: T } | { error: string };

export interface AskOptions {
  /** An empty answer (or only spaces) goes back one step, like Esc, instead of being checked. */
  emptyGoesBack?: boolean;
}

/**
 * Asks for text until `check` accepts it and returns the value `check` made of it. The check runs inside the
 * prompt: a wrong answer is told under the question, which stays open for another try (no "✔ answer" line for
 * an answer that is then refused). Esc rejects with GoBack; so does an empty answer with `emptyGoesBack`.
 */
export async function askUntilValid<T>(
  prompter: Prompter,
  question: Question & { initial?: string },
  check: (answer: string) => CheckResult<T> | Promise<CheckResult<T>>,
  options: AskOptions = {},
): Promise<T> {
  const isBack = (answer: string): boolean => options.emptyGoesBack === true && answer.trim() === '';
  let accepted: { answer: string; value: T } | undefined;
  const answer = await prompter.text({
    ...question,
    validate: async (text) => {
      if (isBack(text)) return undefined;
      const result = await check(text);
      if ('error' in result) return result.error;
      accepted = { answer: text, value: result.value };
      return undefined;
    },
  });
  if (isBack(answer)) throw new GoBack();
  // The value the check made of this very answer; checked again only if the prompt did not run the rule.
  if (accepted?.answer === answer) return accepted.value;
  const result = await check(answer);
  if ('error' in result) throw new Error(`${question.name}: the prompt returned an answer its rule refuses`);
  return result.value;
}

/** Asks for a passphrase twice, masked, until both match and it is not empty. Esc at either goes back. */
export async function askNewPassphrase(prompter: Prompter, ui: Ui): Promise<string> {
  for (;;) {
    const first = await prompter.secret({
      name: 'passphrase',
      message: 'Passphrase',
      validate: (p) => (p === '' ? 'The passphrase cannot be empty.' : undefined),
    });
    const second = await prompter.secret({ name: 'passphrase.again', message: 'The same passphrase again' });
    if (first === second) return first;
    ui.warn('The two passphrases differ. Type it again.');
  }
}
