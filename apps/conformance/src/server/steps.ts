/**
 * The steps server cases are made of (docs/PROTOCOL.md §4): a connection, a handshake, a dictionary put, a file
 * put, a ping that proves nothing else was answered before it, and a look at whether an id is stored.
 */
import type { DictFormat } from '@proj/protocol/dict';
import type { Receipt, Welcome } from '@proj/protocol/wire';
import { check, Failure, show } from '../case';
import type { ServerContext } from './context';
import { expectError, expectMessage, expectReceipt, sha256Hex } from './expect';
import { RawConnection } from './raw-connection';

export const AGENT = 'proj-conformance/0.1.0';

export function open(ctx: ServerContext): Promise<RawConnection> {
  return RawConnection.open(ctx.target.host, ctx.target.port, ctx.target.answerMs);
}

/** A valid hello (with the token, when one was given), with `extra` fields set or replaced. */
export function hello(
  ctx: Pick<ServerContext, 'target'>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: 'hello',
    version: 1,
    capabilities: [],
    agent: AGENT,
    ...(ctx.target.token !== undefined ? { token: ctx.target.token } : {}),
    ...extra,
  };
}

/** A new connection past its handshake. */
export async function handshake(ctx: ServerContext): Promise<{ conn: RawConnection; welcome: Welcome }> {
  const conn = await open(ctx);
  try {
    await conn.send(hello(ctx));
    const welcome = await expectMessage(conn, ctx, 'welcome', 'the welcome');
    return { conn, welcome };
  } catch (err) {
    conn.destroy();
    throw err;
  }
}

/** Runs `body` on a connection past its handshake, and closes it whatever happens. */
export async function withSession<T>(ctx: ServerContext, body: (conn: RawConnection) => Promise<T>): Promise<T> {
  const { conn } = await handshake(ctx);
  try {
    return await body(conn);
  } finally {
    conn.destroy();
  }
}

/** Runs `body` on a new connection (no hello sent), and closes it whatever happens. */
export async function withConnection<T>(ctx: ServerContext, body: (conn: RawConnection) => Promise<T>): Promise<T> {
  const conn = await open(ctx);
  try {
    return await body(conn);
  } finally {
    conn.destroy();
  }
}

/** `bytes` cut into data payloads of the given sizes (the rest in one), or of the server's frame limit. */
export function chunk(ctx: ServerContext, bytes: Uint8Array, sizes?: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const size of sizes ?? []) {
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  const max = Math.max(1, ctx.welcome.limits.maxFrameBytes);
  for (; at < bytes.length; at += max) out.push(bytes.subarray(at, at + max));
  return out;
}

export interface DictPutSpec {
  id: string;
  format: DictFormat;
  body: Uint8Array;
  /** Data payload sizes to send first (the rest goes in frames of the server's limit). */
  pieces?: readonly number[];
}

/** Sends put_dict and its body as data frames, without waiting. */
export async function sendDict(conn: RawConnection, ctx: ServerContext, p: DictPutSpec): Promise<void> {
  await conn.send({ type: 'put_dict', id: p.id, format: p.format, bytes: p.body.length });
  for (const payload of chunk(ctx, p.body, p.pieces)) await conn.sendData(payload);
}

/** A dictionary put answered by its receipt (duplicate: false unless told). */
export async function putDict(
  conn: RawConnection,
  ctx: ServerContext,
  p: DictPutSpec,
  duplicate = false,
  first?: Receipt,
): Promise<Receipt> {
  await sendDict(conn, ctx, p);
  return expectReceipt(conn, ctx, {
    id: p.id,
    kind: 'dict',
    body: p.body,
    format: p.format,
    duplicate,
    ...(first ? { first } : {}),
  });
}

/** A dictionary put answered by a non-fatal error `code` naming its id. */
export async function refusedDict(
  conn: RawConnection,
  ctx: ServerContext,
  p: DictPutSpec,
  code: string,
): Promise<void> {
  await sendDict(conn, ctx, p);
  await expectError(conn, ctx, code, { id: p.id, fatal: false });
}

export interface FilePutSpec {
  id: string;
  name: string;
  body: Uint8Array;
  /** Declare the size in put_file (default true). */
  declareSize?: boolean;
  /** Declare this encryption in put_file (default: no field, which means `none`). */
  encryption?: 'none' | 'age';
  pieces?: readonly number[];
}

/** Sends put_file and waits for `ready` at offset 0. */
export async function startFile(conn: RawConnection, ctx: ServerContext, p: FilePutSpec): Promise<void> {
  const size = p.declareSize === false ? {} : { size: p.body.length };
  const encryption = p.encryption === undefined ? {} : { encryption: p.encryption };
  await conn.send({ type: 'put_file', id: p.id, name: p.name, ...size, ...encryption });
  const ready = await expectMessage(conn, ctx, 'ready', `ready for ${p.id}`);
  check(ready.id === p.id && ready.offset === 0, () => `expected ready for ${p.id} at offset 0, got ${show(ready)}`);
}

/** The data frames and file_end of a file put (after its ready). */
export async function finishFile(
  conn: RawConnection,
  ctx: ServerContext,
  p: FilePutSpec,
  end: { bytes?: number; sha256?: string } = {},
): Promise<void> {
  for (const payload of chunk(ctx, p.body, p.pieces)) await conn.sendData(payload);
  await conn.send({
    type: 'file_end',
    id: p.id,
    bytes: end.bytes ?? p.body.length,
    sha256: end.sha256 ?? sha256Hex(p.body),
  });
}

/** A whole file put answered by its receipt. */
export async function putFile(conn: RawConnection, ctx: ServerContext, p: FilePutSpec): Promise<Receipt> {
  await startFile(conn, ctx, p);
  await finishFile(conn, ctx, p);
  return expectReceipt(conn, ctx, { id: p.id, kind: 'file', body: p.body, duplicate: false });
}

let nonces = 0;

/** A ping answered by its pong: proof that nothing else was answered before it. */
export async function pingPong(conn: RawConnection, ctx: ServerContext, before = 'the pong'): Promise<void> {
  nonces += 1;
  const nonce = `n${nonces}`;
  await conn.send({ type: 'ping', nonce });
  const answer = await conn.next(ctx.target.answerMs, `the pong (${before})`);
  if (answer.type === 'end') throw new Failure(`expected a pong (${before}), but the server closed the connection`);
  const got = answer.message;
  check(
    got.type === 'pong' && got.nonce === nonce,
    () => `expected the pong of nonce ${nonce} (${before}), got ${show(got)}`,
  );
}

/**
 * Whether the server holds `id` as a dictionary, asked on a new connection with a put of `body`: a fresh
 * receipt (duplicate: false) means it did not, and stores it now.
 */
export async function storedNow(ctx: ServerContext, id: string, body: Uint8Array): Promise<void> {
  await withSession(ctx, async (conn) => {
    await sendDict(conn, ctx, { id, format: 'json', body });
    const receipt = await expectMessage(conn, ctx, 'receipt', `the receipt of ${id}`);
    check(
      !receipt.duplicate,
      () => `put ${id} must have left nothing stored, but the server holds it: ${show(receipt)}`,
    );
  });
}

/** Whether the server holds file put `id`: a `ready` for a new put_file under it means it does not. */
export async function fileNotStored(ctx: ServerContext, id: string): Promise<void> {
  await withSession(ctx, async (conn) => {
    await conn.send({ type: 'put_file', id, name: 'again.txt' });
    const answer = await expectMessage(conn, ctx, 'ready', `ready for ${id} (nothing stored under it)`).catch(
      (err: unknown) => {
        throw new Failure(`put ${id} must have left nothing stored: ${(err as Error).message}`);
      },
    );
    check(answer.id === id, () => `expected ready for ${id}, got ${show(answer)}`);
    await conn.send({ type: 'cancel', id });
  });
}

/** A small valid JSON dictionary, different for each `tag`. */
export function jsonDict(tag: string, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ conformance: tag, ...extra }), 'utf8');
}
