/**
 * What every server case gets: the server's address and what the person running the kit told it (a token, the
 * timeouts the server does not announce), the vectors, fresh put ids, and the welcome of a first handshake,
 * whose limits (docs/PROTOCOL.md §6) the cases test.
 */
import type { Welcome } from '@proj/protocol/wire';
import { Skip } from '../case';
import type { PutIds } from '../ids';
import type { Vectors } from '../vectors';

export interface ServerTarget {
  host: string;
  port: number;
  /** The token the server requires, when it requires one (given by --token-file). */
  token?: string;
  /** How long to wait for each answer, in milliseconds. */
  answerMs: number;
  /** The longest a case may wait on purpose (for a timeout to fire), in milliseconds; longer ones are skipped. */
  maxWaitMs: number;
  /** The most bytes a case may send in one put; cases that need more are skipped. */
  maxSendBytes: number;
  /** Server settings a welcome does not announce, when given: they enable the cases that need them. */
  handshakeTimeoutMs?: number;
  transferTimeoutMs?: number;
  maxPerAddress?: number;
  maxPending?: number;
}

export interface ServerContext {
  target: ServerTarget;
  vectors: Vectors;
  /** The welcome the server gave the kit's first hello. */
  welcome: Welcome;
  ids: PutIds;
}

/** Skips unless the option the case needs was given. */
export function need<T>(value: T | undefined, why: string): T {
  if (value === undefined) throw new Skip(why);
  return value;
}

/** Skips a case that would send more than --max-send allows. */
export function canSend(ctx: ServerContext, bytes: number, what: string): void {
  if (bytes > ctx.target.maxSendBytes) {
    throw new Skip(`${what} means sending ${bytes} bytes, over --max-send (${ctx.target.maxSendBytes})`);
  }
}

/** Skips a case that would wait longer than --max-wait. */
export function canWait(ctx: ServerContext, ms: number, what: string): void {
  if (ms > ctx.target.maxWaitMs) {
    throw new Skip(`${what} means waiting ${ms} ms, over --max-wait (${ctx.target.maxWaitMs} ms)`);
  }
}
