/**
 * Making the file to send at the prompt: a name and lines typed in, or text written in $EDITOR, or an existing
 * file picked on disk; the typed text shown back for review; then how to encrypt it. Esc (or an empty name or
 * path) goes back one step.
 */
import { stat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { FileEncryption } from '../put';
import type { Choice, Prompter } from '../prompts';
import { InterruptedError } from '../errors';
import { askNewPassphrase, askUntilValid, type CheckResult } from './ask';
import { BACK, type Back, GoBack, orBack } from './back';
import type { Ui } from './ui';

type Source = 'type' | 'editor' | 'disk';

/** Checks a file name typed for the server: a plain name, not a path. */
export function checkFileName(text: string): CheckResult<string> {
  const name = text.trim();
  if (name === '') return { error: 'The name cannot be empty. Type a file name, for example notes.txt.' };
  if (/[/\\]/.test(name)) return { error: 'Type a plain name without / or \\: the server chooses the folder.' };
  if (name === '.' || name === '..') return { error: `${name} is not a file name.` };
  if (name.length > 255) return { error: 'The name is too long (255 characters at most).' };
  return { value: name };
}

/** Checks a path typed to pick a file: it must exist and be a regular file. `~/` is the home directory. */
export async function checkExistingFile(text: string, cwd = process.cwd()): Promise<CheckResult<string>> {
  const typed = text.trim();
  if (typed === '') return { error: 'Type the path of a file, for example ./notes.txt.' };
  const path = typed === '~' || typed.startsWith('~/') ? join(homedir(), typed.slice(1)) : resolve(cwd, typed);
  try {
    const info = await stat(path);
    if (!info.isFile()) return { error: `${typed} is not a regular file (a directory?). Type the path of a file.` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { error: `There is no file at ${typed}. Check the path and type it again.` };
    return { error: `Cannot open ${typed}: ${code ?? (err as Error).message}. Type another path.` };
  }
  return { value: path };
}

/** Typed text, kept while the person reviews it, and again when they step back from the encryption question. */
export interface TextDraft {
  name: string;
  content: string;
}

/** What the person typed or picked, ready to send. */
export interface FileToSend {
  /** Local path of the bytes to send. */
  path: string;
  /** Name to give the server. */
  name: string;
  /** The typed text, for going back to its review; absent for a file picked on disk. */
  text?: TextDraft;
  /** Removes a temporary file made for the typed text; does nothing for a file picked on disk. */
  remove(): Promise<void>;
}

/**
 * Asks where the text comes from and returns the file to send, or undefined when the person went back to the
 * main menu (Esc at the first question). Typed text is shown back for review before it is sent; `resume` starts
 * at that review again. An empty file is sent only once confirmed.
 */
export async function chooseTextFile(
  prompter: Prompter,
  ui: Ui,
  env: NodeJS.ProcessEnv,
  resume?: TextDraft,
): Promise<FileToSend | undefined> {
  const editor = env.VISUAL || env.EDITOR || undefined;
  if (resume) {
    const reviewed = await reviewText(prompter, ui, resume, editor);
    if (reviewed !== BACK) return writeTemporary(reviewed);
  }
  for (;;) {
    const choices: Choice<Source>[] = [
      { name: 'type', message: 'Type the text here' },
      {
        name: 'editor',
        message: 'Write it in my editor',
        ...(editor ? { hint: editor } : { disabled: 'set $EDITOR to use this' }),
      },
      { name: 'disk', message: 'Pick an existing file on disk' },
    ];
    const source = await orBack(
      prompter.select({ name: 'file.source', message: 'Where does the text come from? (Esc: back)', choices }),
    );
    if (source === BACK) return undefined;
    if (source === 'disk') {
      const picked = await pickFile(prompter);
      if (picked !== BACK) return picked;
      continue;
    }
    const name = await orBack(askFileName(prompter));
    if (name === BACK) continue;
    const content = await orBack(writeText(prompter, ui, source, name, editor, ''));
    if (content === BACK) continue;
    const reviewed = await reviewText(prompter, ui, { name, content }, editor);
    if (reviewed !== BACK) return writeTemporary(reviewed);
  }
}

function askFileName(prompter: Prompter, initial?: string): Promise<string> {
  return askUntilValid(
    prompter,
    {
      name: 'file.name',
      message: 'Name of the file (empty or Esc: back)',
      ...(initial !== undefined ? { initial } : {}),
    },
    checkFileName,
    { emptyGoesBack: initial === undefined },
  );
}

/** A path on disk; an empty file is sent only once confirmed. Esc or an empty path goes back. */
async function pickFile(prompter: Prompter): Promise<FileToSend | Back> {
  for (;;) {
    const path = await orBack(
      askUntilValid(
        prompter,
        { name: 'file.path', message: 'Path of the file (empty or Esc: back)' },
        (t) => checkExistingFile(t),
        {
          emptyGoesBack: true,
        },
      ),
    );
    if (path === BACK) return BACK;
    const name = basename(path);
    if ((await stat(path)).size === 0 && !(await confirmEmpty(prompter, name))) continue;
    return { path, name, remove: async () => undefined };
  }
}

function confirmEmpty(prompter: Prompter, name: string): Promise<boolean> {
  return prompter
    .confirm({ name: 'file.empty', message: `${name} is empty (0 bytes). Send an empty file?`, initial: false })
    .catch((err: unknown) => (err instanceof GoBack ? false : Promise.reject(err)));
}

/** Lines typed at the prompt, or the editor on `initial`. An editor that fails is told; the text stays. */
async function writeText(
  prompter: Prompter,
  ui: Ui,
  how: 'type' | 'editor',
  name: string,
  editor: string | undefined,
  initial: string,
): Promise<string> {
  if (how === 'type' || editor === undefined) {
    const lines = await prompter.lines({ name: 'file.lines', message: `Content of ${name}` });
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }
  try {
    return await prompter.editor({ name: 'file.editor', message: `Content of ${name}`, editor, initial });
  } catch (err) {
    if (err instanceof GoBack || err instanceof InterruptedError) throw err;
    ui.warn(`${(err as Error).message}. The text is as it was before.`);
    return initial;
  }
}

type ReviewAction = 'send' | 'edit' | 'retype' | 'rename' | 'discard';

/**
 * Shows the text back and asks what to do with it: send, edit in $EDITOR, type again, rename, or discard (Esc
 * too; confirmed when there is text). Sending an empty text is confirmed.
 */
async function reviewText(
  prompter: Prompter,
  ui: Ui,
  start: TextDraft,
  editor: string | undefined,
): Promise<TextDraft | Back> {
  let { name, content } = start;
  for (;;) {
    ui.info(showText(name, content));
    const action = await orBack(
      prompter.select<ReviewAction>({
        name: 'file.review',
        message: `Send ${name}?`,
        choices: [
          { name: 'send', message: 'Send it' },
          {
            name: 'edit',
            message: 'Edit it in my editor',
            ...(editor ? { hint: editor } : { disabled: 'set $EDITOR to use this' }),
          },
          { name: 'retype', message: 'Type it again' },
          { name: 'rename', message: 'Change the name', hint: name },
          { name: 'discard', message: 'Discard it' },
        ],
      }),
    );
    switch (action) {
      case 'send':
        if (content === '' && !(await confirmEmpty(prompter, name))) break;
        return { name, content };
      case 'edit':
        content = await orBack(writeText(prompter, ui, 'editor', name, editor, content)).then((c) =>
          c === BACK ? content : c,
        );
        break;
      case 'retype':
        content = await orBack(writeText(prompter, ui, 'type', name, editor, '')).then((c) =>
          c === BACK ? content : c,
        );
        break;
      case 'rename':
        name = await orBack(askFileName(prompter, name)).then((n) => (n === BACK ? name : n));
        break;
      case 'discard':
      case BACK: {
        if (content === '') return BACK;
        const sure = await orBack(
          prompter.confirm({ name: 'file.discard', message: `Discard the text of ${name}?`, initial: false }),
        );
        if (sure === true) {
          ui.info(`${name} discarded.`);
          return BACK;
        }
        break;
      }
    }
  }
}

/** At most this many lines of the text are shown back. */
const SHOWN_LINES = 20;
const SHOWN_LINE_CHARS = 160;

/** The text as the review shows it: a count, then the lines, control characters made visible. */
export function showText(name: string, content: string): string {
  const bytes = Buffer.byteLength(content);
  if (content === '') return `${name} is empty (0 bytes).`;
  const lines = content.replace(/\n$/, '').split('\n');
  const head = `${name}: ${lines.length} ${lines.length === 1 ? 'line' : 'lines'}, ${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const shown = lines.slice(0, SHOWN_LINES).map((l) => {
    const visible = l.replace(
      /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    );
    return `  │ ${visible.length > SHOWN_LINE_CHARS ? `${visible.slice(0, SHOWN_LINE_CHARS - 1)}…` : visible}`;
  });
  const more = lines.length > SHOWN_LINES ? [`  … and ${lines.length - SHOWN_LINES} more lines`] : [];
  return [head, ...shown, ...more].join('\n');
}

async function writeTemporary(text: TextDraft): Promise<FileToSend> {
  const dir = await mkdtemp(join(tmpdir(), 'proj-client-text-'));
  const path = join(dir, 'content');
  await writeFile(path, text.content, { mode: 0o600 });
  return { path, name: text.name, text, remove: () => rm(dir, { recursive: true, force: true }) };
}

type EncryptChoice = 'none' | 'server' | 'passphrase' | 'back';

/**
 * Asks whether and how to encrypt. To the server's key is the default when the server has one. "Back" (or Esc)
 * returns BACK: nothing is sent and the caller steps back; Esc at the passphrase comes back to this question.
 */
export async function chooseEncryption(
  prompter: Prompter,
  ui: Ui,
  recipient: string | undefined,
): Promise<FileEncryption | Back> {
  const choices: Choice<EncryptChoice>[] = [
    {
      name: 'server',
      message: "Encrypt to the server's key",
      ...(recipient ? { hint: `${recipient.slice(0, 16)}…` } : { disabled: 'the server has no key' }),
    },
    { name: 'passphrase', message: 'Encrypt with a passphrase', hint: 'you will need it to decrypt' },
    { name: 'none', message: 'Do not encrypt' },
    { name: 'back', message: 'Back: do not send yet' },
  ];
  for (;;) {
    const choice = await orBack(
      prompter.select({
        name: 'file.encrypt',
        message: 'Encrypt the file?',
        choices,
        initial: recipient ? 'server' : 'none',
      }),
    );
    if (choice === BACK || choice === 'back') return BACK;
    if (choice === 'none') return { kind: 'none' };
    if (choice === 'server') return { kind: 'server' };
    const passphrase = await orBack(askNewPassphrase(prompter, ui));
    if (passphrase !== BACK) return { kind: 'passphrase', passphrase };
  }
}
