/** Small loops over a Prompter: ask, check, explain, ask again. */
import type { Prompter, Question } from '../prompts';
import type { Ui } from './ui';

export type CheckResult<T> = { value: T } | { error: string };

/**
 * Asks for text until `check` accepts it. `check` returns the value to use, or `{ error }` with the message the
 * person sees before the second chance.
 */
export async function askUntilValid<T>(
  prompter: Prompter,
  ui: Ui,
  question: Question & { initial?: string },
  check: (answer: string) => CheckResult<T> | Promise<CheckResult<T>>,
): Promise<T> {
  for (;;) {
    const answer = await prompter.text(question);
    const result = await check(answer);
    if ('value' in result) return result.value;
    ui.warn(result.error);
  }
}

/** Asks for a passphrase twice, masked, until both match and it is not empty. */
export async function askNewPassphrase(prompter: Prompter, ui: Ui): Promise<string> {
  for (;;) {
    const first = await prompter.secret({ name: 'passphrase', message: 'Passphrase' });
    if (first === '') {
      ui.warn('The passphrase cannot be empty.');
      continue;
    }
    const second = await prompter.secret({ name: 'passphrase.again', message: 'The same passphrase again' });
    if (first === second) return first;
    ui.warn('The two passphrases differ. Type it again.');
  }
}
