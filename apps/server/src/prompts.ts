/**
 * Every question the server asks on the terminal, and only here: the start-up questions (where to listen, where
 * to keep data, what to show, whether to decrypt) and the per-item approval of `--ask`. Nothing else imports
 * enquirer, and only when a question is asked: a server that asks none (`--no-prompt`, no terminal, every answer
 * given) never loads it (./heap.ts and docs/BENCHMARKS.md, "Memory"). Questions are asked one at a time.
 */
import { colorEnabled, parsePort } from '@proj/cli-kit';
import type { ApprovalRequest, Approver } from './approval';
import { checkListen } from './listen-check';
import { DEFAULTS, LISTEN_PORT, UsageError, type OutputMode } from './options';
import { formatBytes } from './output/output';
import { jsonSafe, printable, quoted } from './output/printable';

/** Answers of the start-up questions; only the keys asked about are present. */
export interface StartupAnswers {
  host?: string;
  port?: number;
  dataDir?: string;
  output?: OutputMode;
  decrypt?: boolean;
}

/** The start-up questions that can be asked. */
export type StartupQuestion = keyof StartupAnswers;

interface PromptLike {
  run(): Promise<unknown>;
  cancel(err?: unknown): Promise<void>;
}
type PromptClass = new (options: Record<string, unknown>) => PromptLike;
interface PromptClasses {
  Input: PromptClass;
  Select: PromptClass;
  Confirm: PromptClass;
  Numeral: PromptClass;
}

let loaded: PromptClasses | undefined;

/** enquirer's prompt classes, loaded at the first question. */
function prompts(): PromptClasses {
  loaded ??= require('enquirer') as PromptClasses;
  return loaded;
}

/**
 * Enquirer's colours, off under NO_COLOR (https://no-color.org) or FORCE_COLOR=0: the prompts still move the cursor
 * (they need a terminal), but draw no colour.
 */
function colorOptions(): Record<string, unknown> {
  return colorEnabled(process.env, process.stdout) ? {} : { styles: { enabled: false } };
}

/** Enquirer's validate: true, or the message to show before asking again. */
async function listenProblem(host: string, port: number): Promise<true | string> {
  try {
    await checkListen(host, port);
    return true;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Asks the questions in `which`, with `current` values as the defaults. An address or port the server cannot
 * listen on is refused at once, with the reason, and asked again. A Ctrl-C is a usage error (exit 2).
 */
export async function askStartup(
  which: readonly StartupQuestion[],
  current: Required<StartupAnswers>,
): Promise<StartupAnswers> {
  const answers: StartupAnswers = {};
  const colors = colorOptions();
  const ask = async (prompt: PromptLike): Promise<unknown> => {
    try {
      return await prompt.run();
    } catch {
      throw new UsageError('cancelled at the prompt');
    }
  };
  if (which.includes('host')) {
    const host = await ask(
      new (prompts().Input)({
        ...colors,
        message: 'Address to listen on (127.0.0.1 = this machine only, 0.0.0.0 = all interfaces)',
        initial: current.host,
        validate: (v: string) => listenProblem(v.trim() || DEFAULTS.host, 0),
      }),
    );
    answers.host = String(host).trim() || DEFAULTS.host;
  }
  if (which.includes('port')) {
    const port = await ask(
      new (prompts().Input)({
        ...colors,
        message: 'Port (0 = any free port)',
        initial: String(current.port),
        validate: async (v: string) => {
          let port: number;
          try {
            port = parsePort(v.trim(), 'The port', LISTEN_PORT);
          } catch (err) {
            return (err as Error).message;
          }
          return port === 0 ? true : listenProblem(answers.host ?? current.host, port);
        },
      }),
    );
    answers.port = parsePort(String(port).trim(), 'The port', LISTEN_PORT);
  }
  if (which.includes('dataDir')) {
    const dir = await ask(
      new (prompts().Input)({ ...colors, message: 'Directory to keep received data in', initial: current.dataDir }),
    );
    answers.dataDir = String(dir).trim() || current.dataDir;
  }
  if (which.includes('output')) {
    const choices = [
      { name: 'both', message: 'both: show each item and say where it is saved' },
      { name: 'screen', message: 'screen: show each item' },
      { name: 'file', message: 'file: only say where each item is saved' },
    ];
    const output = await ask(
      new (prompts().Select)({
        ...colors,
        message: 'What to print for each item received (every item is saved either way)',
        choices,
        initial: Math.max(
          0,
          choices.findIndex((c) => c.name === current.output),
        ),
      }),
    );
    answers.output = String(output) as OutputMode;
  }
  if (which.includes('decrypt')) {
    const decrypt = await ask(
      new (prompts().Confirm)({
        ...colors,
        message: 'Decrypt age-encrypted files to show their content?',
        initial: current.decrypt,
      }),
    );
    answers.decrypt = Boolean(decrypt);
  }
  return answers;
}

/** The `--ask` approver: a yes/no prompt per item, withdrawn when the time is up or the client leaves. */
export function terminalApprover(): Approver {
  return async (request: ApprovalRequest, signal: AbortSignal): Promise<boolean> => {
    const prompt = new (prompts().Confirm)({ ...colorOptions(), message: approvalQuestion(request), initial: false });
    const onAbort = (): void => void prompt.cancel().catch(() => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return Boolean(await prompt.run());
    } catch {
      return false;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  };
}

/**
 * The text of the `--ask` question. Every field but the kind and the size came from the client: each is shown
 * escaped (./output/printable.ts), the file name quoted, and the preview on one line of its own, indented, so that
 * nothing a client sends can move the cursor, restyle the terminal or add a line of its own to the question.
 */
export function approvalQuestion(request: ApprovalRequest): string {
  const size = request.bytes !== undefined ? `, ${formatBytes(request.bytes)}` : '';
  const what =
    request.kind === 'dict'
      ? `dictionary (${printable(request.detail)}${size})`
      : `file ${quoted(request.detail)}${size}`;
  const lines = [`Accept ${what} ${printable(request.id)} from ${printable(request.sender)}?`];
  if (request.preview) lines.push(`  ${printable(jsonSafe(request.preview))}`);
  return lines.join('\n');
}
