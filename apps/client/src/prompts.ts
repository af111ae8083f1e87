/**
 * Every question the client asks a person. This is the only module that imports enquirer (and the only one that
 * starts an editor), so the interactive flows take a `Prompter` and tests hand them a scripted one instead.
 *
 * Each question has a stable `name` (`dict.key`, `file.encrypt`…): a scripted prompter checks that the flow asks
 * what the test expects, in order. Validation is not done here: the flows check each answer, say what is wrong,
 * and ask again, so the same rules run at a real terminal and under a script.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Enquirer from 'enquirer';
import { colorEnabled } from '@proj/cli-kit';
import { InterruptedError } from './errors';

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

export interface Prompter {
  /** One line of text. */
  text(q: Question & { initial?: string }): Promise<string>;
  /** One line of text that is not echoed (a passphrase, a token). */
  secret(q: Question): Promise<string>;
  /** One of `choices`; returns its `name`. */
  select<T extends string>(q: Question & { choices: readonly Choice<T>[]; initial?: T }): Promise<T>;
  /** Yes or no. */
  confirm(q: Question & { initial?: boolean }): Promise<boolean>;
  /** Several lines, until a line holding a single `.`; returns them without that line. */
  lines(q: Question): Promise<string[]>;
  /** Opens `editor` (a command, as in $EDITOR) on a temporary file holding `initial`; returns what was saved. */
  editor(q: Question & { editor: string; initial?: string }): Promise<string>;
}

/** The line that ends `Prompter.lines`. */
export const END_OF_LINES = '.';

interface EnquirerAnswer {
  answer: unknown;
}

/**
 * Enquirer's colours, off under NO_COLOR (https://no-color.org) or FORCE_COLOR=0: the prompts still move the cursor
 * (they need a terminal), but draw no colour.
 */
function colorOptions(): Record<string, unknown> {
  return colorEnabled(process.env, process.stdout) ? {} : { styles: { enabled: false } };
}

/** Runs one enquirer prompt; a Ctrl-C (enquirer rejects with an empty value) becomes an InterruptedError. */
async function ask(options: Record<string, unknown>): Promise<unknown> {
  try {
    const result = await Enquirer.prompt<EnquirerAnswer>({ ...colorOptions(), ...options, name: 'answer' } as never);
    return result.answer;
  } catch (err) {
    if (err instanceof Error) throw err;
    throw new InterruptedError('cancelled at the prompt');
  }
}

/** A Prompter that asks at the terminal, with enquirer. */
export function terminalPrompter(): Prompter {
  return {
    async text({ message, initial }) {
      return String(await ask({ type: 'input', message, ...(initial !== undefined ? { initial } : {}) }));
    },
    async secret({ message }) {
      return String(await ask({ type: 'password', message }));
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
      const answer = await ask({
        type: 'select',
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
      return Boolean(await ask({ type: 'confirm', message, initial: initial ?? true }));
    },
    async lines({ message }) {
      process.stdout.write(`${message}\n  (type the lines; a line with a single ${END_OF_LINES} ends the text)\n`);
      const lines: string[] = [];
      for (;;) {
        const line = String(await ask({ type: 'input', message: `${String(lines.length + 1).padStart(3)} │` }));
        if (line === END_OF_LINES) return lines;
        lines.push(line);
      }
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
