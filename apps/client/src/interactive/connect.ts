/**
 * Connecting in the interactive session: host and port asked (Esc at the port goes back to the host), the token
 * when the server wants one, and what to do when nobody answers: try again, change the address, or quit, each
 * said in words. A connection lost later is offered back before anything is sent.
 */
import { parsePort } from '@proj/cli-kit';
import { isProtocolError, NOTICE_PENDING_APPROVAL } from '@proj/protocol';
import { describeError, ExitCode, InterruptedError } from '../errors';
import { Link, type Target } from '../link';
import { askUntilValid } from './ask';
import { BACK, orBack } from './back';
import type { MenuOptions } from './menu';

type RetryChoice = 'again' | 'change' | 'quit';

/**
 * Asks host and port until a connection is made (returns the link), or the person leaves (returns the exit
 * code: 3 when a connection was tried and failed, 0 when they left at the first question). What happens is said
 * before it happens.
 */
export async function connectLoop(options: MenuOptions): Promise<Link | ExitCode> {
  const { prompter, ui } = options;
  let target: Target = { ...options.defaults };
  let failed = false;
  // Host and port the command line gave are not asked on the first attempt (they are after a failure).
  let given = options.given ?? { host: false, port: false };
  const leave = (): ExitCode => {
    ui.info(failed ? 'Not connected: quitting with exit status 3. Nothing was sent.' : 'Goodbye.');
    return failed ? ExitCode.Connection : ExitCode.Ok;
  };
  for (;;) {
    const host = given.host
      ? target.host
      : await orBack(
          askUntilValid<string>(
            prompter,
            { name: 'connect.host', message: 'Server host (Esc: quit)', initial: target.host },
            (t) =>
              t.trim() === '' ? { error: 'Type a host name or address, for example 127.0.0.1.' } : { value: t.trim() },
          ),
        );
    if (host === BACK) return leave();
    const port = given.port
      ? target.port
      : await orBack(
          askUntilValid<number>(
            prompter,
            { name: 'connect.port', message: 'Server port (Esc: back to the host)', initial: String(target.port) },
            (t) => {
              try {
                return { value: parsePort(t.trim(), 'The port') };
              } catch (err) {
                return { error: `${(err as Error).message}. Type a number such as 5050.` };
              }
            },
          ),
        );
    given = { host: false, port: false };
    if (port === BACK) continue;
    target = { ...target, host, port };
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
        failed = true;
        if (isProtocolError(err, 'ERR_AUTH')) {
          ui.warn(target.token ? 'The server refused the token.' : 'The server requires a token.');
          const token = await orBack(prompter.secret({ name: 'connect.token', message: 'Token (Esc: back)' }));
          if (token !== BACK && token !== '') {
            target = { ...target, token };
            continue;
          }
        } else {
          ui.warn(connectProblem(err, link.address));
        }
      }
      const next = await orBack(
        prompter.select<RetryChoice>({
          name: 'connect.retry',
          message: 'Not connected. What now?',
          choices: [
            { name: 'again', message: `Try ${target.host}:${target.port} again` },
            { name: 'change', message: 'Change the host or port' },
            { name: 'quit', message: 'Quit', hint: 'exit status 3, nothing sent' },
          ],
        }),
      );
      if (next === 'again') continue;
      if (next === 'quit') return leave();
      break; // change, or Esc: back to the host question
    }
  }
}

export function connectProblem(err: unknown, address: string): string {
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
    // docs/PROTOCOL.md §4, "Notices": the server's operator decides about the item.
    onNotice: (notice) => {
      if (notice.code === NOTICE_PENDING_APPROVAL) {
        const upTo = notice.timeoutMs !== undefined ? ` (up to ${Math.ceil(notice.timeoutMs / 1000)} s)` : '';
        options.ui.info(`Waiting for the operator to approve…${upTo}`);
      }
    },
  });
}

/**
 * When the connection dropped while the person was at a menu, says so and offers to reconnect. Returns false
 * when they decline (or press Esc): the caller goes back to the menu, nothing lost.
 */
export async function ensureConnected(options: MenuOptions, link: Link): Promise<boolean> {
  while (!link.connected) {
    options.ui.warn(`The connection to ${link.address} was lost.`);
    const again = await orBack(options.prompter.confirm({ name: 'reconnect', message: 'Reconnect?', initial: true }));
    if (again !== true) {
      options.ui.info('Not connected. Nothing was sent; choose again from the menu, or quit.');
      return false;
    }
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
