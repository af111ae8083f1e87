/**
 * Every question the client asks a person. This is the only module that imports enquirer (and the only one that
 * starts an editor), so the interactive flows take a `Prompter` and tests hand them a scripted one instead.
 *
 * Each question has a stable `name` (`dict.key`, `file.encrypt`…): a scripted prompter checks that the flow asks
 * what the test expects, in order. A question may carry a `validate` rule: at the terminal it runs inside the
 * prompt, so a wrong answer is told under the question and the question stays (enquirer's own validation); a
 * scripted prompter runs the same rule. Esc at any question rejects with `GoBack` (the flow goes back one step);
 * Ctrl-C rejects with `InterruptedError`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Enquirer from 'enquirer';
import { InterruptedError } from './errors';
import { GoBack } from './interactive/back';
import { readTypedLines } from './interactive/typed-lines';
import { useColor } from './interactive/ui';

export interface Choice<T extends string = string> {
  /** What the prompt returns when this choice is picked. */
  name: T;
  /** What the person reads. */
  message: string;
  hint?: string;
  /** When set, the choice is shown greyed out with this reason and cannot be picked. */
  disabled?: string;
}

export interface Question {
  /** Stable id of the question, for scripts and tests. */
  name: string;
  /** The question as the person reads it. */
  message: string;
}

/** Checks an answer: the message to show under the question, or undefined when the answer is fine. */
export type Validate = (answer: string) => string | undefined | Promise<string | undefined>;

export interface Prompter {
  /** One line of text; with `validate`, the question stays until the answer passes. */
  text(q: Question & { initial?: string; validate?: Validate }): Promise<string>;
  /** One line of text that is not echoed (a passphrase, a token). */
  secret(q: Question & { validate?: Validate }): Promise<string>;
  /** One of `choices`; returns its `name`. */
  select<T extends string>(q: Question & { choices: readonly Choice<T>[]; initial?: T }): Promise<T>;
  /** Yes or no. */
  confirm(q: Question & { initial?: boolean }): Promise<boolean>;
  /**
   * Several lines, typed or pasted, until a line holding a single `.` (or Ctrl-D); returns them without that
   * line. Esc before anything was typed goes back.
   */
  lines(q: Question): Promise<string[]>;
  /** Opens `editor` (a command, as in $EDITOR) on a temporary file holding `initial`; returns what was saved. */
  editor(q: Question & { editor: string; initial?: string }): Promise<string>;
}

/** The line that ends `Prompter.lines`. */
export const END_OF_LINES = '.';

/** The part of an enquirer prompt this module uses; enquirer's typings do not describe its prompt classes. */
interface EnquirerPrompt {
  on(event: 'keypress', listener: (input: string, key: { name?: string }) => void): void;
  run(): Promise<unknown>;
}
type PromptClass = new (options: Record<string, unknown>) => EnquirerPrompt;
const PROMPTS = (Enquirer as unknown as { prompts: Record<'Input' | 'Password' | 'Select' | 'Confirm', PromptClass> })
  .prompts;

/**
 * Enquirer styles everything through its own copy of ansi-colors, which looks only at FORCE_COLOR. The client's
 * rule (ui.ts `useColor`: NO_COLOR, TERM=dumb, a terminal) is applied to that copy, the one enquirer loads.
 */
function applyColorRule(enabled: boolean): void {
  const colors = createRequire(require.resolve('enquirer'))('ansi-colors') as { enabled: boolean };
  colors.enabled = enabled;
}

/**
 * Runs one enquirer prompt. Enquirer cancels on both Esc and Ctrl-C and rejects with an empty value either way;
 * the last key pressed tells them apart: Esc becomes GoBack, anything else an InterruptedError.
 */
async function ask(type: keyof typeof PROMPTS, options: Record<string, unknown>): Promise<unknown> {
  const prompt = new PROMPTS[type]({ ...options, name: 'answer' });
  let lastKey: string | undefined;
  prompt.on('keypress', (_input, key) => {
    lastKey = key.name;
  });
  try {
    return await prompt.run();
  } catch (err) {
    if (err instanceof Error) throw err;
    if (lastKey === 'escape') throw new GoBack();
    throw new InterruptedError('cancelled at the prompt');
  }
}

/** Enquirer's form of a validation rule: true, or the message it shows under the question. */
function enquirerValidate(validate: Validate | undefined): Record<string, unknown> {
  if (!validate) return {};
  return { validate: async (value: unknown) => (await validate(String(value ?? ''))) ?? true };
}

/** A Prompter that asks at the terminal, with enquirer. */
export function terminalPrompter(): Prompter {
  applyColorRule(useColor(process.env, process.stdout));
  return {
    async text({ message, initial, validate }) {
      return String(
        await ask('Input', { message, ...(initial !== undefined ? { initial } : {}), ...enquirerValidate(validate) }),
      );
    },
    async secret({ message, validate }) {
      return String(await ask('Password', { message, ...enquirerValidate(validate) }));
    },
    async select<T extends string>({
      message,
      choices,
      initial,
    }: Question & { choices: readonly Choice<T>[]; initial?: T }) {
      const index =
        initial === undefined
          ? 0
          : Math.max(
              0,
              choices.findIndex((c) => c.name === initial),
            );
      const answer = await ask('Select', {
        message,
        initial: index,
        // enquirer shows a choice's `name` once answered: the readable text goes there, the stable id in `value`.
        choices: choices.map((c) => ({
          name: c.message,
          value: c.name,
          ...(c.hint !== undefined ? { hint: c.hint } : {}),
          ...(c.disabled !== undefined ? { disabled: c.disabled } : {}),
        })),
        result(this: { find(name: string, key: string): unknown }, name: string) {
          return this.find(name, 'value');
        },
      });
      return answer as T;
    },
    async confirm({ message, initial }) {
      return Boolean(
        await ask('Confirm', {
          message,
          initial: initial ?? true,
          // Enquirer writes the answer as `true`/`false`; people answered yes or no.
          format(this: { styles: { primary(s: string): string } }, value: unknown) {
            return this.styles.primary(value ? 'yes' : 'no');
          },
        }),
      );
    },
    async lines({ message }) {
      process.stdout.write(
        `${message}\n  (type or paste the lines; a line with a single ${END_OF_LINES} or Ctrl-D ends the text)\n`,
      );
      return readTypedLines(process.stdin, process.stdout, END_OF_LINES);
    },
    async editor({ message, editor, initial }) {
      process.stdout.write(`${message}\n  (opening ${editor}; save and quit to continue)\n`);
      const dir = await mkdtemp(join(tmpdir(), 'proj-client-edit-'));
      const file = join(dir, 'text.txt');
      try {
        await writeFile(file, initial ?? '', { mode: 0o600 });
        // $EDITOR may hold arguments ("code --wait"), so it runs through the shell with the path quoted.
        const run = spawnSync(`${editor} '${file.replace(/'/g, `'\\''`)}'`, { shell: true, stdio: 'inherit' });
        if (run.error) throw run.error;
        if (run.status !== 0) throw new Error(`the editor (${editor}) exited with status ${String(run.status)}`);
        return await readFile(file, 'utf8');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
