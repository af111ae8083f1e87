/**
 * Making the file to send at the prompt: a name and lines typed in, or text written in $EDITOR, or an existing
 * file picked on disk; then how to encrypt it.
 */
import { stat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { FileEncryption } from '../put';
import type { Choice, Prompter } from '../prompts';
import { askNewPassphrase, askUntilValid, type CheckResult } from './ask';
import type { Ui } from './ui';

export interface FileToSend {
  /** Local path of the bytes to send. */
  path: string;
  /** Name to give the server. */
  name: string;
  /** Removes a temporary file made for the typed text; does nothing for a file picked on disk. */
  remove(): Promise<void>;
}

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

/** Asks where the text comes from and returns the file to send. */
export async function chooseTextFile(prompter: Prompter, ui: Ui, env: NodeJS.ProcessEnv): Promise<FileToSend> {
  const editor = env.VISUAL || env.EDITOR;
  const choices: Choice<Source>[] = [
    { name: 'type', message: 'Type the text here' },
    {
      name: 'editor',
      message: 'Write it in my editor',
      ...(editor ? { hint: editor } : { disabled: 'set $EDITOR to use this' }),
    },
    { name: 'disk', message: 'Pick an existing file on disk' },
  ];
  const source = await prompter.select({ name: 'file.source', message: 'Where does the text come from?', choices });
  if (source === 'disk') {
    const path = await askUntilValid(prompter, ui, { name: 'file.path', message: 'Path of the file' }, (t) =>
      checkExistingFile(t),
    );
    return { path, name: basename(path), remove: async () => undefined };
  }
  const name = await askUntilValid(prompter, ui, { name: 'file.name', message: 'Name of the file' }, checkFileName);
  let content: string;
  if (source === 'type') {
    const lines = await prompter.lines({ name: 'file.lines', message: `Content of ${name}` });
    content = lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  } else {
    content = await prompter.editor({ name: 'file.editor', message: `Content of ${name}`, editor: editor as string });
  }
  const dir = await mkdtemp(join(tmpdir(), 'proj-client-text-'));
  const path = join(dir, 'content');
  await writeFile(path, content, { mode: 0o600 });
  ui.info(`${name}: ${Buffer.byteLength(content)} bytes`);
  return { path, name, remove: () => rm(dir, { recursive: true, force: true }) };
}

type EncryptChoice = 'none' | 'server' | 'passphrase';

/** Asks whether and how to encrypt. To the server's key is the default when the server has one. */
export async function chooseEncryption(
  prompter: Prompter,
  ui: Ui,
  recipient: string | undefined,
): Promise<FileEncryption> {
  const choices: Choice<EncryptChoice>[] = [
    {
      name: 'server',
      message: "Encrypt to the server's key",
      ...(recipient ? { hint: `${recipient.slice(0, 16)}…` } : { disabled: 'the server has no key' }),
    },
    { name: 'passphrase', message: 'Encrypt with a passphrase', hint: 'you will need it to decrypt' },
    { name: 'none', message: 'Do not encrypt' },
  ];
  const choice = await prompter.select({
    name: 'file.encrypt',
    message: 'Encrypt the file?',
    choices,
    initial: recipient ? 'server' : 'none',
  });
  if (choice === 'none') return { kind: 'none' };
  if (choice === 'server') return { kind: 'server' };
  return { kind: 'passphrase', passphrase: await askNewPassphrase(prompter, ui) };
}
