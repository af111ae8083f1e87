/**
 * When and how long to wait before sending again (docs/CLIENT.md, "Retries"): only failures of the connection
 * itself are retried, after a growing pause with jitter. A refusal from the server is not: it would refuse again.
 */
import { AbortedError, isProtocolError, RemoteError } from '../errors';
import type { RetryOptions } from './types';

export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({ retries: 5, baseDelayMs: 250, maxDelayMs: 8000 });

/** `ConnectOptions.retry` with every field filled. */
export function resolveRetry(retry: RetryOptions | false | undefined): RetryPolicy {
  if (retry === false) return { ...DEFAULT_RETRY, retries: 0 };
  const policy = { ...DEFAULT_RETRY, ...(retry ?? {}) };
  for (const [key, value] of Object.entries(policy)) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`retry.${key} must be a whole number >= 0`);
  }
  return policy;
}

/**
 * Pause before retry number `attempt` (1 for the first retry): exponential, capped, with jitter over the upper
 * half so that many clients cut off together do not come back together.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Local codes that mean the connection failed or was lost. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ERR_CONNECT',
  'ERR_CONNECTION_CLOSED',
  'ERR_TIMEOUT',
  'ERR_FRAME_TRUNCATED',
]);

/** Socket errors by their errno, in case one reaches here raw. */
const SOCKET_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENOTCONN',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * True for failures of the connection itself, after which the same put may be sent again on a new connection;
 * also the server's ERR_SHUTTING_DOWN (a restarting server takes the retry when it is back).
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof RemoteError) return err.code === 'ERR_SHUTTING_DOWN';
  return isConnectionFailure(err);
}

/**
 * True when `err` means the connection failed or was lost: a local error of the connection (not a refusal from the
 * server, not the caller's abort), or a raw socket error. Programs built on the library use it to tell the two
 * apart (the client app's exit code 3).
 */
export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof AbortedError || err instanceof RemoteError) return false;
  if (isProtocolError(err)) return CONNECTION_CODES.has(err.code);
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && SOCKET_ERRNOS.has(code);
}

/** Resolves after `ms`; rejects with AbortedError when `signal` fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError({ cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError({ cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
