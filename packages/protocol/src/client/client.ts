/**
 * The library client (docs/CLIENT.md, "The library"; docs/PROTOCOL.md §4): `connect()` and the `Client` it
 * returns. A client holds one connection at a time (./session.ts) and opens a new one when it is lost: a put cut
 * by a lost connection is sent again under the same put id after a growing pause (./retry.ts), and a file put
 * resumes from what the server holds durably. The server keeps the receipt of every id it stored, so a put that
 * did arrive is answered with its first receipt and nothing is stored twice.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { encodeDict, type Dict } from '../dict/index';
import { AbortedError, ConnectionClosedError } from '../errors';
import { DEFAULT_PORT } from '../limits';
import type { Receipt, Welcome } from '../wire/envelopes';
import { Connection, openSocket } from './connection';
import { encryptedSource, keysFor, plainSource, type KeptKeys } from './file-source';
import { backoffDelay, isRetryable, resolveRetry, sleep, type RetryPolicy } from './retry';
import { checkCapabilities, checkId, discardSource, RESUME_CAPABILITY, Session } from './session';
import type {
  ByteSource,
  Client,
  ClientEvents,
  CloseReason,
  ConnectOptions,
  DictLike,
  NotArray,
  SendDictOptions,
  SendFileOptions,
  SendStreamOptions,
} from './types';

/**
 * Opens a connection and completes the handshake; the client reconnects by itself later when the connection is
 * lost (`retry`). Throws ERR_CONNECT when nobody listens, or the server's coded refusal (ERR_AUTH, ERR_VERSION).
 */
export async function connect(options: ConnectOptions = {}): Promise<Client> {
  const client = new RetryingClient(options);
  await client.open(options.signal);
  return client;
}

type Listener<E extends keyof ClientEvents> = (event: ClientEvents[E]) => void;

class RetryingClient implements Client {
  readonly address: string;
  readonly closed: Promise<CloseReason>;
  readonly #options: ConnectOptions;
  readonly #policy: RetryPolicy;
  readonly #capabilitiesAsked: readonly string[];
  #session: Session | undefined;
  #lastSession: Session | undefined;
  #closedWith: CloseReason | undefined;
  #resolveClosed!: (reason: CloseReason) => void;
  #listeners = new Map<keyof ClientEvents, Set<(event: never) => void>>();
  #opening: Promise<Session> | undefined;

  constructor(options: ConnectOptions) {
    this.#options = options;
    this.#policy = resolveRetry(options.retry);
    this.address = `${options.host ?? '127.0.0.1'}:${options.port ?? DEFAULT_PORT}`;
    const asked = [...(options.resume !== false ? [RESUME_CAPABILITY] : []), ...(options.capabilities ?? [])];
    checkCapabilities(asked);
    this.#capabilitiesAsked = asked;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get welcome(): Welcome {
    const session = this.#session ?? this.#lastSession;
    if (!session) throw new ConnectionClosedError('not connected');
    return session.welcome;
  }

  get capabilities(): readonly string[] {
    return (this.#session ?? this.#lastSession)?.capabilities ?? [];
  }

  has(name: string): boolean {
    return this.capabilities.includes(name);
  }

  get recipient(): string | undefined {
    return (this.#session ?? this.#lastSession)?.welcome.encryption.recipient;
  }

  get connected(): boolean {
    return this.#session !== undefined && this.#session.closedWith === undefined;
  }

  get isClosed(): boolean {
    return this.#closedWith !== undefined;
  }

  on<E extends keyof ClientEvents>(event: E, listener: Listener<E>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  /** Opens a connection unless one is open (once: no retries here). */
  async open(signal?: AbortSignal): Promise<Session> {
    if (this.#closedWith) throw this.#closedWith.error ?? new ConnectionClosedError('the client is closed');
    if (this.#session && !this.#session.closedWith) return this.#session;
    this.#opening ??= this.#connect(signal).finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async sendDict<T extends DictLike<T>>(dict: NotArray<T>, options: SendDictOptions = {}): Promise<Receipt> {
    const format = options.format ?? 'json';
    const session = await this.open(options.signal);
    const { maxDictDepth, maxDictBytes } = session.welcome.limits;
    // Encoded once, so every attempt sends the same bytes; encoding errors come before anything is sent.
    const bytes = encodeDict(dict as unknown as Dict, format, { maxDictDepth, maxDictBytes });
    return this.sendDictBytes(bytes, { ...options, format });
  }

  sendDictBytes(bytes: Uint8Array, options: SendDictOptions = {}): Promise<Receipt> {
    const id = options.id ?? randomUUID();
    checkId(id);
    return this.#run(options.signal, (s) => s.sendDictBytes(bytes, options.format ?? 'json', id));
  }

  async sendFile(path: string, options: SendFileOptions = {}): Promise<Receipt> {
    const id = options.id ?? randomUUID();
    checkId(id);
    const stats = await stat(path, { bigint: true });
    const size = Number(stats.size);
    let source = plainSource(path, stats, options.chunkBytes);
    let name = options.name ?? basename(path);
    if (options.encrypt !== undefined) {
      const session = await this.open(options.signal);
      const mode = options.encrypt;
      const recipient = session.welcome.encryption.recipient;
      const newKeys = async (earlier?: KeptKeys): Promise<KeptKeys> => {
        const keys = await keysFor(mode, recipient, earlier);
        // Kept by a caller that resumes from another process, before any byte they encrypt is sent.
        await options.onEncryptionKeys?.(keys);
        return keys;
      };
      source = encryptedSource(path, size, await newKeys(options.encryptionKeys), () => newKeys());
      if (options.name === undefined && !/\.age$/i.test(name)) name = `${name}.age`;
    }
    const encryption = options.encrypt !== undefined ? 'age' : (options.encryption ?? 'none');
    return this.#run(options.signal, (s) =>
      s.putFile(source, {
        id,
        name,
        encryption,
        resume: options.resume !== false,
        ...(options.chunkBytes !== undefined ? { chunkBytes: options.chunkBytes } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        onResume: (offset) => this.#emit('resume', { id, offset, size: source.size }),
        onRestart: (offset, reason) => this.#emit('restart', { id, offset, reason }),
      }),
    );
  }

  sendStream(source: ByteSource | (() => ByteSource), options: SendStreamOptions): Promise<Receipt> {
    const id = options.id ?? randomUUID();
    checkId(id);
    const repeatable = typeof source === 'function';
    let used = false;
    return this.#run(
      options.signal,
      (s) => {
        used = true;
        return s.sendStream(source, { ...options, id });
      },
      repeatable,
    ).finally(() => {
      if (!used && !repeatable) discardSource(source);
    });
  }

  ping(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#run(options.signal, (s) => s.ping());
  }

  async close(): Promise<void> {
    if (this.#closedWith) return;
    const session = this.#session;
    this.#end({});
    await session?.close();
  }

  destroy(): void {
    const session = this.#session;
    this.#end({});
    session?.destroy();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #connect(signal?: AbortSignal): Promise<Session> {
    const options = this.#options;
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? DEFAULT_PORT;
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
    const socket = await openSocket(host, port, options.tls, timeoutMs);
    const connection = new Connection(socket, timeoutMs);
    connection.onNotice = options.onNotice;
    const session = new Session(connection);
    const onAbort = (): void => session.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await session.handshake({
        capabilities: this.#capabilitiesAsked,
        ...(options.agent !== undefined ? { agent: options.agent } : {}),
        ...(options.token !== undefined ? { token: options.token } : {}),
      });
    } catch (err) {
      session.destroy();
      if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (this.#closedWith) {
      session.destroy();
      throw new ConnectionClosedError('the client is closed');
    }
    if (options.keepAlive !== false) session.startKeepAlive();
    const replaced = this.#lastSession !== undefined;
    this.#session = session;
    this.#lastSession = session;
    if (replaced) this.#emit('reconnect', { address: this.address });
    return session;
  }

  /**
   * Runs `task` on an open connection. When it fails because the connection failed, reconnects and runs it
   * again, up to `retries` more times with backoff; `task` reuses one put id across calls. When the retries run
   * out on a lost connection, the client is closed for good.
   */
  async #run<T>(signal: AbortSignal | undefined, task: (session: Session) => Promise<T>, retry = true): Promise<T> {
    const { retries } = this.#policy;
    for (let attempt = 0; ; attempt += 1) {
      let session: Session | undefined;
      try {
        session = await this.open(signal);
        return await withAbort(signal, session, task(session));
      } catch (err) {
        if (signal?.aborted) throw err instanceof AbortedError ? err : new AbortedError({ cause: signal.reason });
        if (this.#closedWith || !isRetryable(err)) throw err;
        session?.destroy();
        if (!retry || attempt >= retries) {
          // The retries ran out on a lost connection: this client is done. (Without retries, or for a one-shot
          // stream, the next call connects again.)
          if (retry && retries > 0) this.#end({ error: err as Error });
          throw err;
        }
        const delayMs = backoffDelay(attempt + 1, this.#policy);
        this.#emit('retry', { attempt: attempt + 1, retries, delayMs, error: err as Error });
        await sleep(delayMs, signal);
      }
    }
  }

  #end(reason: CloseReason): void {
    if (this.#closedWith) return;
    this.#closedWith = reason;
    this.#session = undefined;
    this.#resolveClosed(reason);
    this.#emit('close', reason);
  }

  #emit<E extends keyof ClientEvents>(event: E, value: ClientEvents[E]): void {
    for (const listener of this.#listeners.get(event) ?? []) (listener as Listener<E>)(value);
  }
}

/** `work` on `session`, except that `signal` firing closes the session at once and rejects with AbortedError. */
async function withAbort<T>(signal: AbortSignal | undefined, session: Session, work: Promise<T>): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    session.destroy();
    work.catch(() => undefined);
    throw new AbortedError({ cause: signal.reason });
  }
  const onAbort = (): void => session.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await work;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
