/**
 * The checks the server cases make of an answer: the envelope type they wait for, an error with its code, its
 * `fatal` flag and its id (docs/PROTOCOL.md §3, §7; a fatal error closes the connection, §4 "Errors"), and a
 * receipt that describes exactly the bytes sent (§3: size, SHA-256, a path inside the data directory).
 */
import { createHash } from 'node:crypto';
import type { ErrorMessage, Receipt, ServerMessage } from '@proj/protocol/wire';
import { check, Failure, show } from '../case';
import type { ServerContext } from './context';
import type { RawConnection } from './raw-connection';

type Of<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** The next answer, which must be an envelope of `type`, with its payload's bytes (to see its member order). */
export async function expectFrame<T extends ServerMessage['type']>(
  conn: RawConnection,
  ctx: Pick<ServerContext, 'target'>,
  type: T,
  waitingFor: string = type,
  waitMs = ctx.target.answerMs,
): Promise<{ message: Of<T>; bytes: Buffer }> {
  const answer = await conn.next(waitMs, waitingFor);
  if (answer.type === 'end') throw new Failure(`expected ${waitingFor}, but the server closed the connection`);
  const { message } = answer;
  if (message.type !== type) {
    throw new Failure(`expected ${waitingFor}, got ${show(message)}`);
  }
  return { message: message as Of<T>, bytes: answer.bytes };
}

/** The next answer, which must be an envelope of `type`. */
export async function expectMessage<T extends ServerMessage['type']>(
  conn: RawConnection,
  ctx: Pick<ServerContext, 'target'>,
  type: T,
  waitingFor: string = type,
  waitMs = ctx.target.answerMs,
): Promise<Of<T>> {
  return (await expectFrame(conn, ctx, type, waitingFor, waitMs)).message;
}

/** The names of an envelope's members, in the order its bytes hold them. */
export function memberOrder(bytes: Buffer): string[] {
  return Object.keys(JSON.parse(bytes.toString('utf8')) as object);
}

export interface ExpectedError {
  /** The put the error must name (a non-fatal error ending a put). */
  id?: string;
  fatal: boolean;
  /** How long to wait for it (default: the answer wait). */
  waitMs?: number;
}

/**
 * The next answer must be `error` with `code` and the `fatal` flag given; a fatal one carries no id and is
 * followed by the close of the connection, a non-fatal one about a put names its id.
 */
export async function expectError(
  conn: RawConnection,
  ctx: ServerContext,
  code: string,
  expected: ExpectedError,
): Promise<ErrorMessage> {
  return (await expectErrorFrame(conn, ctx, code, expected)).message;
}

/** expectError, with the error's bytes. */
export async function expectErrorFrame(
  conn: RawConnection,
  ctx: ServerContext,
  code: string,
  expected: ExpectedError,
): Promise<{ message: ErrorMessage; bytes: Buffer }> {
  const frame = await expectFrame(conn, ctx, 'error', `error ${code}`, expected.waitMs);
  const error = frame.message;
  check(error.code === code, () => `expected error ${code}, got ${error.code} (${show(error.message, 120)})`);
  check(error.fatal === expected.fatal, () => `expected ${code} with fatal: ${expected.fatal}, got ${show(error)}`);
  if (expected.fatal) {
    check(error.id === undefined, () => `a fatal error never carries an id (§3), got ${show(error)}`);
    await conn.closed(ctx.target.answerMs, `the fatal error ${code}`);
  } else if (expected.id !== undefined) {
    check(error.id === expected.id, () => `expected ${code} for put ${expected.id}, got ${show(error)}`);
  }
  return frame;
}

/**
 * The next answer must be the fatal `ERR_VERSION` of a hello for `sent`, listing in `supported`, as its last
 * member, the versions the server speaks: 1 (the version it welcomed the kit with) and not `sent` (§3, §4).
 */
export async function expectVersionError(conn: RawConnection, ctx: ServerContext, sent: number): Promise<void> {
  const { message, bytes } = await expectErrorFrame(conn, ctx, 'ERR_VERSION', { fatal: true });
  const supported = message.supported;
  check(
    supported !== undefined,
    () => `ERR_VERSION lists the versions the server speaks in supported, got ${show(message)}`,
  );
  check(
    supported.includes(ctx.welcome.version) && !supported.includes(sent),
    () => `supported must list ${ctx.welcome.version} and not ${sent}, got ${show(supported)}`,
  );
  const order = memberOrder(bytes);
  check(order.at(-1) === 'supported', () => `supported is the last member of ERR_VERSION, got ${show(order)}`);
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface ExpectedReceipt {
  id: string;
  kind: 'dict' | 'file';
  /** The bytes sent: the receipt's `bytes` and `sha256` must describe them. */
  body: Uint8Array;
  /** For a dictionary. */
  format?: string;
  duplicate: boolean;
  /** For a duplicate: the first receipt, which it must repeat. */
  first?: Receipt;
}

/** The next answer must be the receipt of put `id`, describing exactly `body`. */
export async function expectReceipt(conn: RawConnection, ctx: ServerContext, e: ExpectedReceipt): Promise<Receipt> {
  const receipt = await expectMessage(conn, ctx, 'receipt', `the receipt of ${e.id}`);
  checkReceipt(receipt, e);
  return receipt;
}

/** The receipt rules of §3, and that it describes what was sent. */
export function checkReceipt(receipt: Receipt, e: ExpectedReceipt): void {
  const got = show(receipt, 400);
  check(receipt.id === e.id, () => `expected the receipt of ${e.id}, got ${got}`);
  check(receipt.kind === e.kind, () => `expected kind ${e.kind}, got ${got}`);
  check(receipt.bytes === e.body.length, () => `sent ${e.body.length} bytes, the receipt says ${receipt.bytes}`);
  const sha256 = sha256Hex(e.body);
  check(receipt.sha256 === sha256, () => `sent bytes with SHA-256 ${sha256}, the receipt says ${receipt.sha256}`);
  if (e.kind === 'dict') {
    check(receipt.format === e.format, () => `expected format ${e.format}, got ${got}`);
  } else {
    check(receipt.format === undefined, () => `a file receipt has no format (§3), got ${got}`);
  }
  check(receipt.duplicate === e.duplicate, () => `expected duplicate: ${e.duplicate}, got ${got}`);
  checkPath(receipt.path);
  check(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(receipt.receivedAt),
    () => `receivedAt must be ISO 8601 UTC (§3), got ${show(receipt.receivedAt)}`,
  );
  if (e.first) {
    for (const key of ['path', 'bytes', 'sha256', 'receivedAt', 'kind', 'format', 'encrypted'] as const) {
      check(
        receipt[key] === e.first[key],
        () => `a duplicate repeats the first receipt: ${key} was ${show(e.first?.[key])}, now ${show(receipt[key])}`,
      );
    }
  }
}

/** §3: relative to the data directory, `/` as separator, never `..` (not even inside a name). */
export function checkPath(path: string): void {
  check(!path.startsWith('/'), () => `a receipt path is relative (§3), got ${show(path)}`);
  check(!/^[A-Za-z]:/.test(path) && !path.includes('\\'), () => `a receipt path uses / (§3), got ${show(path)}`);
  check(!path.includes('..'), () => `a receipt path never contains .. (§3), got ${show(path)}`);
}
