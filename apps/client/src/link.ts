/**
 * Sending with retries. A `Link` holds one connection to the server and reopens it when it is lost. A put that
 * fails because the connection failed is sent again, after a growing pause, with the same put id: the server
 * keeps the receipt of every id it stored, so a put that did arrive is answered with its first receipt
 * (`duplicate: true`) and nothing is stored twice (docs/PROTOCOL.md §1, §4).
 */
import type { ConnectionOptions } from 'node:tls';
import { connect, PENDING_NOTICE_CAPABILITY, type Client, type Notice, type Welcome } from '@proj/protocol';
import { InterruptedError, isConnectionFailure } from './errors';

export interface Target {
  host: string;
  port: number;
  /** Read from a file or a prompt, never from argv. */
  token?: string;
  tls?: boolean | ConnectionOptions;
  timeoutMs?: number;
}

export interface RetryPolicy {
  /** Further attempts after the first failure. */
  retries: number;
  /** Pause before the first retry; doubles each time. */
  baseDelayMs: number;
  /** Longest pause. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({ retries: 5, baseDelayMs: 250, maxDelayMs: 8000 });

/**
 * Pause before retry number `attempt` (1 for the first retry): exponential, capped, with jitter over the upper
 * half so that many clients cut off together do not come back together.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * True for failures of the connection itself, after which the same put may be sent again on a new one. A
 * refusal from the server is not retried: it would refuse again.
 */
export function isRetryable(err: unknown): boolean {
  return isConnectionFailure(err);
}

export interface RetryEvent {
  attempt: number;
  retries: number;
  delayMs: number;
  error: Error;
}

export interface LinkOptions {
  policy?: RetryPolicy;
  /** Told before each pause, to say what is going on. */
  onRetry?: (event: RetryEvent) => void;
  /** Aborting destroys the connection and stops the retries with an InterruptedError. */
  signal?: AbortSignal;
  agent?: string;
  /**
   * Told when the server says a put waits (docs/PROTOCOL.md §4, "Notices"); given, the link negotiates
   * `pending-notice`, and the wait for that put's answer grows by the operator's time.
   */
  onNotice?: (notice: Notice) => void;
}

export class Link {
  readonly target: Target;
  #client: Client | undefined;
  #policy: RetryPolicy;
  #options: LinkOptions;

  constructor(target: Target, options: LinkOptions = {}) {
    this.target = target;
    this.#policy = options.policy ?? DEFAULT_RETRY;
    this.#options = options;
    options.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  #onAbort = (): void => {
    this.#client?.destroy();
  };

  /** `host:port`. */
  get address(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.#client !== undefined && !this.#client.closed;
  }

  /** The current connection's welcome, if connected once. */
  get welcome(): Welcome | undefined {
    return this.#client?.welcome;
  }

  /** Connects when there is no open connection (once, no retries), and returns the client. */
  async open(): Promise<Client> {
    this.#throwIfAborted();
    if (this.#client && !this.#client.closed) return this.#client;
    this.#client?.destroy();
    this.#client = undefined;
    const client = await connect({
      host: this.target.host,
      port: this.target.port,
      agent: this.#options.agent ?? 'proj-client',
      ...(this.target.token !== undefined ? { token: this.target.token } : {}),
      ...(this.target.tls !== undefined ? { tls: this.target.tls } : {}),
      ...(this.target.timeoutMs !== undefined ? { timeoutMs: this.target.timeoutMs } : {}),
      ...(this.#options.onNotice
        ? { capabilities: [PENDING_NOTICE_CAPABILITY], onNotice: this.#options.onNotice }
        : {}),
    });
    if (this.#options.signal?.aborted) {
      client.destroy();
      this.#throwIfAborted();
    }
    this.#client = client;
    return client;
  }

  /**
   * Runs `put` on an open connection. When it fails because the connection failed, reconnects and runs it again,
   * up to `retries` more times with backoff. `put` must reuse one put id across calls.
   */
  async run<T>(put: (client: Client) => Promise<T>): Promise<T> {
    const { retries } = this.#policy;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const client = await this.open();
        return await put(client);
      } catch (err) {
        this.#throwIfAborted();
        if (!isRetryable(err) || attempt >= retries) throw err;
        this.#client?.destroy();
        const delayMs = backoffDelay(attempt + 1, this.#policy);
        this.#options.onRetry?.({ attempt: attempt + 1, retries, delayMs, error: err as Error });
        await this.#sleep(delayMs);
      }
    }
  }

  /** Says goodbye and closes; safe to call when not connected. */
  async close(): Promise<void> {
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    const client = this.#client;
    this.#client = undefined;
    await client?.close();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#client?.destroy();
    this.#client = undefined;
  }

  #throwIfAborted(): void {
    if (this.#options.signal?.aborted) throw new InterruptedError('interrupted');
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const signal = this.#options.signal;
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new InterruptedError('interrupted'));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
