/**
 * The app's connection to the server: a thin holder of one `@proj/protocol` client, which does the retrying, the
 * reconnecting and the resuming itself (docs/CLIENT.md, "Retries"; the library section). A put cut by a lost
 * connection is sent again with the same put id (a file continues from what the server holds), and the server
 * answers a put it already stored with its first receipt, so nothing is stored twice.
 *
 * What the app adds: the target from its flags, Ctrl-C (the command's signal) as InterruptedError, and a new
 * connection when the person asks to reconnect at the interactive menu.
 */
import type { ConnectionOptions } from 'node:tls';
import {
  AbortedError,
  connect,
  PENDING_NOTICE_CAPABILITY,
  type Client,
  type Notice,
  type RetryEvent,
  type Welcome,
} from '@proj/protocol';
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

export type { RetryEvent };

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({ retries: 5, baseDelayMs: 250, maxDelayMs: 8000 });

/**
 * Pause before retry number `attempt` (1 for the first retry), as the library computes it: exponential, capped,
 * with jitter over the upper half.
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

export interface LinkOptions {
  policy?: RetryPolicy;
  /** Told before each pause, to say what is going on. */
  onRetry?: (event: RetryEvent) => void;
  /** Aborting closes the connection and ends the call in progress with an InterruptedError. */
  signal?: AbortSignal;
  agent?: string;
  /**
   * Told when the server says a put waits (docs/PROTOCOL.md §4, "Notices"); given, the link negotiates
   * `pending-notice`, and the wait for that put's answer grows by the operator's time.
   */
  onNotice?: (notice: Notice) => void;
  /** Resume cut file puts (default true). */
  resume?: boolean;
}

export class Link {
  readonly target: Target;
  #client: Client | undefined;
  #options: LinkOptions;

  constructor(target: Target, options: LinkOptions = {}) {
    this.target = target;
    this.#options = options;
  }

  /** `host:port`. */
  get address(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  /** True while a client is open (it reconnects by itself within its retries). */
  get connected(): boolean {
    return this.#client !== undefined && !this.#client.isClosed && this.#client.connected;
  }

  /** The current connection's welcome, if connected once. */
  get welcome(): Welcome | undefined {
    return this.#client?.welcome;
  }

  /** The signal of this link's calls (Ctrl-C). */
  get signal(): AbortSignal | undefined {
    return this.#options.signal;
  }

  /**
   * The client, connecting when there is none or it was closed or lost (once, no retries: nobody listening is
   * reported at once, docs/CLIENT.md §7).
   */
  async open(): Promise<Client> {
    this.#throwIfAborted();
    if (this.#client && !this.#client.isClosed && this.#client.connected) return this.#client;
    this.#client?.destroy();
    this.#client = undefined;
    const policy = this.#options.policy ?? DEFAULT_RETRY;
    const client = await this.call(() =>
      connect({
        host: this.target.host,
        port: this.target.port,
        agent: this.#options.agent ?? 'proj-client',
        retry: policy,
        resume: this.#options.resume !== false,
        ...(this.target.token !== undefined ? { token: this.target.token } : {}),
        ...(this.target.tls !== undefined ? { tls: this.target.tls } : {}),
        ...(this.target.timeoutMs !== undefined ? { timeoutMs: this.target.timeoutMs } : {}),
        ...(this.#options.signal ? { signal: this.#options.signal } : {}),
        ...(this.#options.onNotice
          ? { capabilities: [PENDING_NOTICE_CAPABILITY], onNotice: this.#options.onNotice }
          : {}),
      }),
    );
    if (this.#options.onRetry) client.on('retry', this.#options.onRetry);
    this.#client = client;
    return client;
  }

  /** Runs `work`, turning an abort by this link's signal into InterruptedError. */
  async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof AbortedError || this.#options.signal?.aborted) {
        throw new InterruptedError('interrupted');
      }
      throw err;
    }
  }

  /** Says goodbye and closes; safe to call when not connected. */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.close();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#client?.destroy();
    this.#client = undefined;
  }

  #throwIfAborted(): void {
    if (this.#options.signal?.aborted) throw new InterruptedError('interrupted');
  }
}
