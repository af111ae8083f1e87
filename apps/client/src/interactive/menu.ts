/**
 * The interactive session's menu loop: connect (connect.ts), then a menu until the person leaves. Esc goes back
 * one step everywhere; at this menu it leaves, after confirming when a dictionary draft would be lost. A draft
 * left with Esc (or not sent) is kept and offered again here. Ctrl-C at any prompt closes the connection politely
 * and ends with exit code 130; a lost connection is told and the person may reconnect.
 */
import { randomUUID } from 'node:crypto';
import type { DictFormat } from '@proj/protocol';
import type { EncryptTuning } from '../encrypt';
import { describeError, ExitCode, exitCodeFor, InterruptedError } from '../errors';
import type { Prompter } from '../prompts';
import { putDict, putFile, type PutResult } from '../put';
import { receiptBlock } from '../receipt-format';
import { isRetryable, type Link, type RetryPolicy, type Target } from '../link';
import { BACK, orBack } from './back';
import { connectLoop, ensureConnected } from './connect';
import { buildDictionary, chooseFormat } from './dict-builder';
import { emptyDict, entryCount, toDict, type DraftDict } from './draft';
import { chooseEncryption, chooseTextFile, type TextDraft } from './text-file';
import type { Ui } from './ui';

export interface MenuOptions {
  prompter: Prompter;
  ui: Ui;
  /** Offered as the answers to the host and port questions; token and TLS are used as given. */
  defaults: Target;
  /** Host and port the command line already gave: not asked on the first attempt (asked after a failure). */
  given?: { host: boolean; port: boolean };
  policy: RetryPolicy;
  signal?: AbortSignal;
  env: NodeJS.ProcessEnv;
  progressStream?: NodeJS.WriteStream;
  tuning?: EncryptTuning;
}

type MenuChoice = 'dict' | 'file' | 'ping' | 'disconnect';

/** Runs the whole session; returns the exit code. */
export async function runInteractive(options: MenuOptions): Promise<ExitCode> {
  const { ui, prompter } = options;
  let link: Link | undefined;
  let draft: DraftDict | undefined;
  try {
    const connected = await connectLoop(options);
    if (typeof connected === 'number') return connected;
    link = connected;
    for (;;) {
      const kept = draft?.entries.length ?? 0;
      const choice = await orBack(
        prompter.select<MenuChoice>({
          name: 'menu',
          message: 'What would you like to do?',
          choices: [
            {
              name: 'dict',
              message: draft ? `Continue the dictionary (${entryCount(kept)})` : 'Create a dictionary and send it',
            },
            { name: 'file', message: 'Create a text file (or pick one) and send it' },
            { name: 'ping', message: 'Check the connection' },
            { name: 'disconnect', message: 'Disconnect and quit' },
          ],
        }),
      );
      if (choice === BACK || choice === 'disconnect') {
        if (kept > 0 && !(await confirmLeave(prompter, kept))) continue;
        await link.close();
        ui.info('Disconnected. Goodbye.');
        return ExitCode.Ok;
      }
      if (choice === 'ping') {
        if (await ensureConnected(options, link)) await pingOnce(options, link);
      } else if (choice === 'dict') draft = await dictionaryFlow(options, link, draft);
      else await fileFlow(options, link);
    }
  } catch (err) {
    if (err instanceof InterruptedError || options.signal?.aborted) {
      await link?.close().catch(() => undefined);
      const lost = draft && draft.entries.length > 0 ? ' The dictionary draft was not sent.' : '';
      ui.info(`\nInterrupted: connection closed.${lost} Goodbye.`);
      return ExitCode.Interrupted;
    }
    link?.destroy();
    throw err;
  }
}

/** Leaving would lose a draft that has entries: asked, with No as the answer to Enter and to Esc. */
async function confirmLeave(prompter: Prompter, kept: number): Promise<boolean> {
  const sure = await orBack(
    prompter.confirm({
      name: 'quit.confirm',
      message: `Quit and lose the dictionary draft (${entryCount(kept)})? It was not sent.`,
      initial: false,
    }),
  );
  return sure === true;
}

async function pingOnce(options: MenuOptions, link: Link): Promise<void> {
  const started = process.hrtime.bigint();
  try {
    const client = await link.open();
    await client.ping();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    options.ui.info(`The server answered in ${ms.toFixed(1)} ms.`);
  } catch (err) {
    if (err instanceof InterruptedError) throw err;
    options.ui.warn(describeError(err));
  }
}

/**
 * Builds (or continues) the dictionary and sends it. Returns the draft to keep: the one the person went back
 * from, or one that was not sent; undefined once it was sent or discarded.
 */
async function dictionaryFlow(
  options: MenuOptions,
  link: Link,
  start: DraftDict | undefined,
): Promise<DraftDict | undefined> {
  const { prompter, ui } = options;
  let draft = start ?? emptyDict();
  for (;;) {
    const outcome = await buildDictionary(prompter, ui, draft);
    if (outcome.kind === 'discard') {
      ui.info('Dictionary discarded.');
      return undefined;
    }
    draft = outcome.draft;
    if (outcome.kind === 'back') {
      ui.info('Back at the main menu. The dictionary draft is kept: choose "Continue the dictionary" to go on.');
      return draft;
    }
    const chosen = await orBack(chooseFormat(prompter));
    if (chosen === BACK) continue;
    let format: DictFormat = chosen;
    if (!(await ensureConnected(options, link))) return keep(ui, draft);
    const dict = toDict(draft);
    const id = randomUUID();
    const sent = await sendWithSecondChance(
      options,
      link,
      'dictionary',
      () => putDict(link, dict, format, id),
      async (err) => {
        // A dictionary the format cannot carry (an integer too large for binary…) may go in another format.
        if (!isRetryable(err) && exitCodeFor(err) !== ExitCode.Refused) {
          const other = await orBack(chooseFormat(prompter));
          if (other !== BACK) format = other;
        }
      },
    );
    return sent ? undefined : keep(ui, draft);
  }
}

function keep(ui: Ui, draft: DraftDict): DraftDict {
  ui.info('The dictionary draft is kept: choose "Continue the dictionary" to change it or send it again.');
  return draft;
}

/** Makes or picks the file, asks how to encrypt it ("Back" returns to the text's review), sends it. */
async function fileFlow(options: MenuOptions, link: Link): Promise<void> {
  const { prompter, ui } = options;
  let resume: TextDraft | undefined;
  for (;;) {
    const file = await chooseTextFile(prompter, ui, options.env, resume);
    if (!file) return;
    try {
      if (!(await ensureConnected(options, link))) return;
      let recipient: string | undefined;
      try {
        recipient = (await link.open()).recipient;
      } catch (err) {
        if (err instanceof InterruptedError) throw err;
        ui.warn(`Not sent. ${describeError(err)}`);
        return;
      }
      const encryption = await chooseEncryption(prompter, ui, recipient);
      if (encryption === BACK) {
        resume = file.text;
        continue;
      }
      const id = randomUUID();
      await sendWithSecondChance(options, link, file.name, () =>
        putFile(link, file.path, {
          id,
          name: file.name,
          encryption,
          ...(options.progressStream ? { progressStream: options.progressStream } : {}),
          ...(options.tuning ? { tuning: options.tuning } : {}),
        }),
      );
      return;
    } finally {
      await file.remove();
    }
  }
}

/**
 * Sends, shows the receipt; on failure tells why and offers to try again (reconnecting first when the
 * connection is gone). The put id stays the same, so a put that did arrive is not stored twice. Returns whether
 * it was sent.
 */
async function sendWithSecondChance(
  options: MenuOptions,
  link: Link,
  what: string,
  send: () => Promise<PutResult>,
  beforeRetry?: (err: unknown) => Promise<void>,
): Promise<boolean> {
  const { ui, prompter } = options;
  for (;;) {
    try {
      ui.info(`Sending ${what}…`);
      const { receipt, sent } = await send();
      ui.info(receiptBlock(receipt, sent));
      return true;
    } catch (err) {
      if (err instanceof InterruptedError || options.signal?.aborted) throw err;
      const lost = isRetryable(err);
      ui.warn(
        lost ? `The connection to ${link.address} was lost: ${describeError(err)}` : `Not sent. ${describeError(err)}`,
      );
      const again = await orBack(
        prompter.confirm({
          name: 'send.again',
          message: lost ? 'Reconnect and send it again?' : 'Try again?',
          initial: lost,
        }),
      );
      if (again !== true) {
        ui.info(`Not sent: ${what}.`);
        return false;
      }
      await beforeRetry?.(err);
    }
  }
}
