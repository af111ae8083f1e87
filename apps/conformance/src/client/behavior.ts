/**
 * What the scripted server does on a connection (docs/PROTOCOL.md §4, from the server's side): a welcome (whole
 * or in pieces, with `capabilities: []` when the hello listed some) or a refusal, then each put answered as the case says: a correct receipt, a duplicate, a receipt
 * that does not match, an error, or a close without an answer. By default it behaves as a correct server.
 */
import { createHash } from 'node:crypto';
import type { ClientMessage, PutDict, PutFile } from '@proj/protocol/wire';
import type { ScriptedConnection, Script } from './scripted-server';

/** How a complete put is answered. */
export type PutAnswer =
  | 'receipt'
  | 'duplicate'
  | 'wrong-sha256'
  | 'wrong-bytes'
  | 'close'
  | { error: string; fatal?: boolean };

/** How a put_file is answered before any data: ready, the first receipt of a file with these bytes, an error. */
export type FileStart = 'ready' | { duplicateOf: Buffer } | { error: string };

export interface Behavior {
  /** The welcome (default: the welcome vector's). */
  welcome: Record<string, unknown>;
  /** Byte counts to cut the welcome's frame into, per connection (undefined: one write). */
  welcomePieces?: (connection: number) => readonly number[] | undefined;
  /** Refuse the hello with this code (fatal) instead of a welcome. */
  handshakeError?: string;
  dict?: (put: PutDict, connection: number) => PutAnswer;
  fileStart?: (put: PutFile, connection: number) => FileStart;
  /** After the first data frame of a file put, fail it with this code (the error §4 describes mid-stream). */
  fileMidError?: string;
  file?: (put: PutFile, connection: number) => PutAnswer;
  /** Wait this long before `ready`, so that a client sending data early is seen doing it. */
  readyDelayMs?: number;
  /** How long to wait for the client's next frame. */
  waitMs: number;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

function receipt(
  kind: 'dict' | 'file',
  id: string,
  body: Buffer,
  format: string | undefined,
  answer: PutAnswer,
): Record<string, unknown> {
  const wrongSha = answer === 'wrong-sha256';
  return {
    type: 'receipt',
    id,
    kind,
    path: `items/conformance/${id}`,
    bytes: body.length + (answer === 'wrong-bytes' ? 1 : 0),
    sha256: wrongSha ? sha256(Buffer.concat([body, Buffer.from('x')])) : sha256(body),
    ...(format !== undefined ? { format } : {}),
    encrypted: false,
    receivedAt: '2026-01-02T03:04:05.678Z',
    duplicate: answer === 'duplicate',
  };
}

/** Sends the answer of a complete put; false when the connection is to end. */
async function answer(
  conn: ScriptedConnection,
  kind: 'dict' | 'file',
  id: string,
  body: Buffer,
  format: string | undefined,
  how: PutAnswer,
): Promise<boolean> {
  if (how === 'close') {
    conn.close();
    return false;
  }
  if (typeof how === 'object') {
    const fatal = how.fatal === true;
    await conn.send({ type: 'error', code: how.error, message: 'scripted refusal', ...(fatal ? {} : { id }), fatal });
    return !fatal;
  }
  await conn.send(receipt(kind, id, body, format, how));
  return true;
}

export function behave(b: Behavior): Script {
  return async (conn) => {
    const first = await conn.next(b.waitMs);
    if (first === undefined) return;
    if (b.handshakeError !== undefined) {
      // A version-1 server's ERR_VERSION lists the versions it speaks, last (§3, §4).
      const supported = b.handshakeError === 'ERR_VERSION' ? { supported: [1] } : {};
      await conn.send({
        type: 'error',
        code: b.handshakeError,
        message: 'scripted refusal',
        fatal: true,
        ...supported,
      });
      return;
    }
    // A hello that lists capabilities gets the welcome with capabilities last: none, as version 1 defines none (§4).
    const asked = first.kind === 1 && first.message?.type === 'hello' ? first.message.capabilities : [];
    const welcome = asked.length > 0 ? { ...b.welcome, capabilities: [] } : b.welcome;
    const pieces = b.welcomePieces?.(conn.index);
    if (pieces) await conn.sendInPieces(welcome, pieces);
    else await conn.send(welcome);
    for (;;) {
      const frame = await conn.next(b.waitMs);
      if (frame === undefined || frame.kind !== 1 || frame.message === undefined) {
        if (frame === undefined) return;
        continue; // the checker reports it
      }
      if (!(await onMessage(conn, b, frame.message))) return;
    }
  };
}

/** One message between puts; false when the connection is to end. */
async function onMessage(conn: ScriptedConnection, b: Behavior, msg: ClientMessage): Promise<boolean> {
  switch (msg.type) {
    case 'ping':
      await conn.send({ type: 'pong', ...(msg.nonce !== undefined ? { nonce: msg.nonce } : {}) });
      return true;
    case 'bye':
      await conn.send({ type: 'bye' });
      return false;
    case 'put_dict': {
      const body = await readBody(conn, b, msg.bytes);
      if (body === undefined) return false;
      return answer(conn, 'dict', msg.id, body, msg.format, b.dict?.(msg, conn.index) ?? 'receipt');
    }
    case 'put_file':
      return onPutFile(conn, b, msg);
    default:
      return true; // a cancel with nothing in progress, or something the checker reports
  }
}

/** A dictionary's body: data frames until `bytes` arrived (pings answered); undefined when the client left. */
async function readBody(conn: ScriptedConnection, b: Behavior, bytes: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let got = 0;
  while (got < bytes) {
    const frame = await conn.next(b.waitMs);
    if (frame === undefined) return undefined;
    if (frame.kind === 2) {
      parts.push(frame.payload);
      got += frame.payload.length;
    } else if (frame.message?.type === 'ping') {
      await conn.send({ type: 'pong', ...(frame.message.nonce !== undefined ? { nonce: frame.message.nonce } : {}) });
    } else {
      return undefined; // the checker reports it
    }
  }
  return Buffer.concat(parts);
}

async function onPutFile(conn: ScriptedConnection, b: Behavior, msg: PutFile): Promise<boolean> {
  const start = b.fileStart?.(msg, conn.index) ?? 'ready';
  if (typeof start === 'object' && 'duplicateOf' in start) {
    await conn.send(receipt('file', msg.id, start.duplicateOf, undefined, 'duplicate'));
    return true;
  }
  if (typeof start === 'object') {
    await conn.send({ type: 'error', code: start.error, message: 'scripted refusal', id: msg.id, fatal: false });
    return true;
  }
  if (b.readyDelayMs) await new Promise((r) => setTimeout(r, b.readyDelayMs));
  await conn.send({ type: 'ready', id: msg.id, offset: 0 });
  const parts: Buffer[] = [];
  let failed = false;
  for (;;) {
    const frame = await conn.next(b.waitMs);
    if (frame === undefined) return false;
    if (frame.kind === 2) {
      if (failed) continue;
      parts.push(frame.payload);
      if (b.fileMidError !== undefined) {
        failed = true;
        await conn.send({ type: 'error', code: b.fileMidError, message: 'scripted failure', id: msg.id, fatal: false });
      }
      continue;
    }
    const m = frame.message;
    if (m?.type === 'cancel' && m.id === msg.id) return true;
    if (m?.type === 'file_end' && m.id === msg.id) {
      if (failed) return true;
      return answer(conn, 'file', msg.id, Buffer.concat(parts), undefined, b.file?.(msg, conn.index) ?? 'receipt');
    }
    if (m?.type === 'ping') await conn.send({ type: 'pong', ...(m.nonce !== undefined ? { nonce: m.nonce } : {}) });
  }
}
