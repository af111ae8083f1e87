/**
 * Every call to the cluster goes through `retry`: a leader election drops requests silently (the request times
 * out), a stream without a leader answers "no responders" or "temporarily unavailable", and the client is
 * reconnecting to another node meanwhile. Such failures are tried again, with a short pause, until a deadline;
 * an answer that is an answer (a key that exists, a message not found) is not retried.
 */

/** How long one call may keep trying, and how long each attempt may take. */
export interface Deadline {
  /** Total time for a call, retries included. */
  totalMs: number;
  /** Time for one attempt (a request's own timeout). */
  attemptMs: number;
}

export const DEFAULT_DEADLINE: Deadline = { totalMs: 30_000, attemptMs: 2_000 };

/** JetStream API codes that mean "not now" rather than "no". */
const TRANSIENT_API_CODES = new Set([
  503, // no leader / JetStream not ready
  10008, // JetStream temporarily unavailable
]);

/** Whether a failure from the NATS client is worth another attempt. */
export function isTransient(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; code?: unknown; message?: string; cause?: unknown };
  switch (e.name) {
    case 'TimeoutError':
    case 'NoRespondersError':
    case 'ConnectionError':
      return true;
    case 'ClosedConnectionError':
      return false;
    case 'RequestError':
      return e.cause === undefined || isTransient(e.cause);
    case 'JetStreamNotEnabled':
      // The client's name for "no responders" to a JetStream request: while a stream elects a leader, nobody
      // answers its subjects (seen on every kill of a leader); the store was there when it was opened.
      return true;
    case 'JetStreamApiError':
    case 'JetStreamError':
    case 'JetStreamStatusError':
      return (
        (typeof e.code === 'number' && TRANSIENT_API_CODES.has(e.code)) || (err as { status?: unknown }).status === 503
      );
  }
  return /timeout|no responders|temporarily unavailable|leader/i.test(e.message ?? '');
}

/** The last failure of a call that ran out of time; `cause` is what the last attempt threw. */
export class DeadlineError extends Error {
  readonly code = 'ERR_STORE_DEADLINE';
  constructor(what: string, ms: number, options?: ErrorOptions) {
    super(`${what}: no answer from the cluster within ${ms} ms`, options);
  }
}

/**
 * Runs `attempt(timeoutMs)` until it settles with a value or a failure that is not transient, or the deadline
 * passes (DeadlineError). Each attempt gets at most what is left of the deadline as its timeout.
 */
export async function retry<T>(
  what: string,
  attempt: (timeoutMs: number) => Promise<T>,
  deadline: Deadline = DEFAULT_DEADLINE,
): Promise<T> {
  const end = Date.now() + deadline.totalMs;
  let pause = 25;
  for (;;) {
    const left = end - Date.now();
    try {
      return await attempt(Math.max(100, Math.min(deadline.attemptMs, left)));
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (Date.now() + pause >= end) throw new DeadlineError(what, deadline.totalMs, { cause: err });
    }
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 500);
  }
}
