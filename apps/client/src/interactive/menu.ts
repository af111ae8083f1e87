/**
 * The interactive session's menu loop: connect (asking host and port), then a menu until the person disconnects.
 * Ctrl-C at any prompt closes the connection politely and ends with exit code 130; a lost connection is told
 * and the person may reconnect.
 */
import { randomUUID } from 'node:crypto';
import { parsePort } from '@proj/cli-kit';
import { isProtocolError, type DictFormat } from '@proj/protocol';
import type { EncryptTuning } from '../encrypt';
import { describeError, ExitCode, exitCodeFor, InterruptedError } from '../errors';
import type { Prompter } from '../prompts';
import { putDict, putFile, type FileEncryption, type PutResult } from '../put';
import { receiptBlock } from '../receipt-format';
import { isRetryable, Link, type RetryPolicy, type Target } from '../link';
import { askUntilValid } from './ask';
import { buildDictionary, chooseFormat } from './dict-builder';
import { toDict } from './draft';
import { chooseEncryption, chooseTextFile } from './text-file';
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
  const { ui } = options;
  let link: Link | undefined;
  try {
    link = await connectLoop(options);
    if (!link) return ExitCode.Connection;
    for (;;) {
      const choice = await options.prompter.select<MenuChoice>({
        name: 'menu',
        message: 'What would you like to do?',
        choices: [
          { name: 'dict', message: 'Create a dictionary and send it' },
          { name: 'file', message: 'Create a text file (or pick one) and send it' },
          { name: 'ping', message: 'Check the connection' },
          { name: 'disconnect', message: 'Disconnect and quit' },
        ],
      });
      if (choice === 'disconnect') {
        await link.close();
        ui.info('Disconnected. Goodbye.');
        return ExitCode.Ok;
      }
      if (!(await ensureConnected(options, link))) return ExitCode.Connection;
      if (choice === 'ping') await pingOnce(options, link);
      else if (choice === 'dict') await dictionaryFlow(options, link);
      else await fileFlow(options, link);
    }
  } catch (err) {
    if (err instanceof InterruptedError || options.signal?.aborted) {
      await link?.close().catch(() => undefined);
      ui.info('\nInterrupted: connection closed. Goodbye.');
      return ExitCode.Interrupted;
    }
    link?.destroy();
    throw err;
  }
}

/** Asks host and port until a connection is made, or the person gives up (returns undefined). */
async function connectLoop(options: MenuOptions): Promise<Link | undefined> {
  const { prompter, ui } = options;
  let target: Target = { ...options.defaults };
  let given = options.given ?? { host: false, port: false };
  for (;;) {
    const host = given.host
      ? target.host
      : await askUntilValid<string>(
          prompter,
          ui,
          { name: 'connect.host', message: 'Server host', initial: target.host },
          (t) =>
            t.trim() === '' ? { error: 'Type a host name or address, for example 127.0.0.1.' } : { value: t.trim() },
        );
    const port = given.port
      ? target.port
      : await askUntilValid<number>(
          prompter,
          ui,
          { name: 'connect.port', message: 'Server port', initial: String(target.port) },
          (t) => {
            try {
              return { value: parsePort(t.trim(), 'The port') };
            } catch (err) {
              return { error: `${(err as Error).message}. Type a number such as 5050.` };
            }
          },
        );
    target = { ...target, host, port };
    given = { host: false, port: false };
    for (;;) {
      const link = newLink(options, target);
      try {
        ui.info(`Connecting to ${link.address}…`);
        const client = await link.open();
        const w = client.welcome;
        ui.info(
          `Connected to ${link.address}: ${w.agent}. ` +
            (w.encryption.recipient
              ? 'Files can be encrypted to its key.'
              : 'It has no encryption key; a passphrase still works.'),
        );
        return link;
      } catch (err) {
        if (err instanceof InterruptedError) throw err;
        if (isProtocolError(err, 'ERR_AUTH')) {
          ui.warn(target.token ? 'The server refused the token.' : 'The server requires a token.');
          const token = await prompter.secret({ name: 'connect.token', message: 'Token' });
          if (token !== '') target = { ...target, token };
          continue;
        }
        ui.warn(connectProblem(err, link.address));
      }
      const again = await prompter.confirm({ name: 'connect.retry', message: 'Try again?', initial: true });
      if (!again) return undefined;
      break;
    }
  }
}

function connectProblem(err: unknown, address: string): string {
  if (isProtocolError(err, 'ERR_CONNECT')) {
    return `Nobody is listening at ${address}. Is the server running, and are host and port right? (${(err as Error).message})`;
  }
  if (isProtocolError(err, 'ERR_TIMEOUT')) return `No answer from ${address} in time. (${(err as Error).message})`;
  return `Could not connect to ${address}: ${describeError(err)}`;
}

function newLink(options: MenuOptions, target: Target): Link {
  return new Link(target, {
    policy: options.policy,
    agent: 'proj-client (interactive)',
    ...(options.signal ? { signal: options.signal } : {}),
    onRetry: ({ attempt, retries, delayMs, error }) =>
      options.ui.warn(
        `Connection lost (${describeError(error)}). Retry ${attempt} of ${retries} in ${(delayMs / 1000).toFixed(1)} s…`,
      ),
  });
}

/** When the connection dropped while the person was at the menu, says so and offers to reconnect. */
async function ensureConnected(options: MenuOptions, link: Link): Promise<boolean> {
  while (!link.connected) {
    options.ui.warn(`The connection to ${link.address} was lost.`);
    const again = await options.prompter.confirm({ name: 'reconnect', message: 'Reconnect?', initial: true });
    if (!again) return false;
    try {
      await link.open();
      options.ui.info(`Reconnected to ${link.address}.`);
    } catch (err) {
      if (err instanceof InterruptedError) throw err;
      options.ui.warn(connectProblem(err, link.address));
    }
  }
  return true;
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

async function dictionaryFlow(options: MenuOptions, link: Link): Promise<void> {
  const draft = await buildDictionary(options.prompter, options.ui);
  if (!draft) {
    options.ui.info('Dictionary discarded.');
    return;
  }
  const dict = toDict(draft);
  let format: DictFormat = await chooseFormat(options.prompter);
  const id = randomUUID();
  await sendWithSecondChance(
    options,
    link,
    'dictionary',
    () => putDict(link, dict, format, id),
    async (err) => {
      // A dictionary the format cannot carry (an integer too large for binary…) may go in another format.
      if (!isRetryable(err) && exitCodeFor(err) !== ExitCode.Refused) format = await chooseFormat(options.prompter);
    },
  );
}

async function fileFlow(options: MenuOptions, link: Link): Promise<void> {
  const file = await chooseTextFile(options.prompter, options.ui, options.env);
  try {
    const client = await link.open();
    const encryption: FileEncryption = await chooseEncryption(options.prompter, options.ui, client.recipient);
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
  } finally {
    await file.remove();
  }
}

/**
 * Sends, shows the receipt; on failure tells why and offers to try again (reconnecting first when the
 * connection is gone). The put id stays the same, so a put that did arrive is not stored twice.
 */
async function sendWithSecondChance(
  options: MenuOptions,
  link: Link,
  what: string,
  send: () => Promise<PutResult>,
  beforeRetry?: (err: unknown) => Promise<void>,
): Promise<void> {
  const { ui, prompter } = options;
  for (;;) {
    try {
      ui.info(`Sending ${what}…`);
      const { receipt, sent } = await send();
      ui.info(receiptBlock(receipt, sent));
      return;
    } catch (err) {
      if (err instanceof InterruptedError || options.signal?.aborted) throw err;
      const lost = isRetryable(err);
      ui.warn(
        lost ? `The connection to ${link.address} was lost: ${describeError(err)}` : `Not sent. ${describeError(err)}`,
      );
      const again = await prompter.confirm({
        name: 'send.again',
        message: lost ? 'Reconnect and send it again?' : 'Try again?',
        initial: lost,
      });
      if (!again) return;
      await beforeRetry?.(err);
    }
  }
}
