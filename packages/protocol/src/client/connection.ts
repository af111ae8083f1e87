/**
 * The client's side of one connection (docs/PROTOCOL.md §2 frames, §4 session): the socket, frame decoding and
 * writing, matching the server's answers to the put waiting for them, keep-alive pings, and the end of the
 * connection. It knows nothing of puts beyond their ids: ./client.ts speaks the session through it.
 *
 * Every answer the server sends goes to the one caller waiting in `next()`, or into an inbox until one asks. Once
 * the connection ends (closed, failed, a fatal error from the server, a timeout), that error is the answer to
 * every later call.
 */
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  ConnectError,
  ConnectionClosedError,
  RemoteError,
  RemoteVersionError,
  TimeoutError,
  UnexpectedMessageError,
} from '../errors';
import { parseServerMessage, type ClientMessageInput, type Notice, type ServerMessage } from '../wire/envelopes';
import { NOTICE_PENDING_APPROVAL, PENDING_NOTICE_CAPABILITY } from '../wire/notices';
import { type Frame, FrameKind } from '../wire/frame';
import { FrameDecoder } from '../wire/frame-decoder';
import { FrameWriter } from '../wire/frame-writer';

type Waiter = { resolve: (m: ServerMessage) => void; reject: (e: Error) => void };

/**
 * Opens a TCP (or, with `tlsOptions`, TLS) socket to `host:port` within `timeoutMs`.
 * Throws ERR_CONNECT when nobody listens, ERR_TIMEOUT when the connection takes too long.
 */
export async function openSocket(
  host: string,
  port: number,
  tlsOptions: boolean | tls.ConnectionOptions | undefined,
  timeoutMs: number,
): Promise<net.Socket> {
  const socket = tlsOptions
    ? tls.connect({
        host,
        port,
        servername: net.isIP(host) ? undefined : host,
        ...(tlsOptions === true ? {} : tlsOptions),
      })
    : net.connect({ host, port });
  const ready = tlsOptions ? 'secureConnect' : 'connect';
  const timer = setTimeout(() => socket.destroy(new TimeoutError('response', timeoutMs)), timeoutMs);
  try {
    await once(socket, ready);
  } catch (cause) {
    socket.destroy();
    if (cause instanceof TimeoutError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ECONNREFUSED' ? 'nobody is listening there' : (cause as Error).message;
    throw new ConnectError(`cannot connect to ${host}:${port}: ${why}`, { cause });
  } finally {
    clearTimeout(timer);
  }
  socket.setNoDelay(true);
  return socket;
}

/** The server's `error` envelope as the error a caller sees; ERR_VERSION keeps the server's list of versions. */
export function remoteError(message: Extract<ServerMessage, { type: 'error' }>): RemoteError {
  if (message.code === 'ERR_VERSION') {
    return new RemoteVersionError(message.message, message.supported ?? [], message.id, message.fatal);
  }
  return new RemoteError(message.code, message.message, message.id, message.fatal);
}

export class Connection {
  #socket: net.Socket;
  #writer: FrameWriter;
  #decoder = new FrameDecoder({ maxFrameBytes: 1024 * 1024 });
  #inbox: ServerMessage[] = [];
  #waiter: Waiter | undefined;
  #closed: Error | undefined;
  #timeoutMs: number;
  #keepAlive: NodeJS.Timeout | undefined;
  #lastActivity = Date.now();
  #pendingPongs = 0;
  /** Put ids the client gave up on (cancelled or failed locally): late answers for them are dropped. */
  #abandoned = new Set<string>();
  /**
   * Whether fields this version does not define are dropped from the server's messages instead of refused: set
   * before the hello when it lists capabilities (docs/PROTOCOL.md §4, "Capabilities").
   */
  ignoreUnknownFields = false;
  /** The capabilities the handshake negotiated: what they add to the server's messages is read (set after welcome). */
  capabilities: ReadonlySet<string> = new Set();
  /** Each `notice` the server sends, on a connection that negotiated `pending-notice` (docs/PROTOCOL.md §4, "Notices"). */
  onNotice: ((notice: Notice) => void) | undefined;
  /** Until when (ms since the epoch) a PENDING_APPROVAL notice extended the wait for an answer. */
  #patientUntil = 0;

  /** Takes over `socket`; `timeoutMs` bounds the wait for each answer. */
  constructor(socket: net.Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#writer = new FrameWriter(socket, 1024 * 1024);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) =>
      this.#fail(new ConnectionClosedError(`connection error: ${err.message}`, { cause: err })),
    );
    socket.on('close', () => this.#fail(new ConnectionClosedError()));
  }

  /** The error the connection ended with, once it has ended (closed, failed, or refused by the server). */
  get closedWith(): Error | undefined {
    return this.#closed;
  }

  /** The largest payload a frame may carry: the server's limit, once its welcome has said it. */
  get maxFrameBytes(): number {
    return this.#writer.maxFrameBytes;
  }

  set maxFrameBytes(bytes: number) {
    this.#writer.maxFrameBytes = bytes;
  }

  /**
   * Sends a ping whenever the connection has been quiet for a third of `idleTimeoutMs` (the server's idle
   * timeout) and nobody is waiting for an answer. The pongs are dropped.
   */
  startKeepAlive(idleTimeoutMs: number): void {
    if (idleTimeoutMs <= 0) return;
    const every = Math.max(50, Math.floor(idleTimeoutMs / 3));
    this.#keepAlive = setInterval(() => {
      if (this.#closed || this.#waiter) return;
      if (Date.now() - this.#lastActivity < every) return;
      this.#pendingPongs += 1;
      this.send({ type: 'ping' });
    }, every);
    this.#keepAlive.unref();
  }

  /** Sends one control envelope. Throws the connection's error once it has ended. */
  send(message: ClientMessageInput): void {
    if (this.#closed) throw this.#closed;
    this.#lastActivity = Date.now();
    this.#writer.control(message);
  }

  /**
   * Writes one data frame without copying `payload`; false when the socket buffer is full (call `drain()`).
   * `written` is called once the socket no longer needs `payload`.
   */
  data(payload: Uint8Array, written?: () => void): boolean {
    const ok = this.#writer.data(payload, written);
    this.#lastActivity = Date.now();
    return ok;
  }

  /** Runs `write`, whose envelopes and data frames leave in one write to the socket. */
  together<T>(write: () => T): T {
    return this.#writer.together(write);
  }

  /** Resolves once the socket has room again; rejects if it closes first. */
  async drain(): Promise<void> {
    await this.#writer.drain();
    this.#lastActivity = Date.now();
  }

  /** Drops every answer still to come for put `id`, up to its last word (an error or a receipt). */
  abandon(id: string): void {
    this.#abandoned.add(id);
  }

  /**
   * Throws the connection's error once it has ended, or the server's error when it has already answered put `id`
   * (or the connection) while the put is still being sent: an early refusal.
   */
  throwIfAnswered(id: string): void {
    if (this.#closed) throw this.#closed;
    const early = this.#inbox.find((m) => m.type === 'error' && (m.id === undefined || m.id === id));
    if (early && early.type === 'error') {
      this.#inbox.splice(this.#inbox.indexOf(early), 1);
      throw remoteError(early);
    }
  }

  /**
   * The next message from the server, within the answer timeout. With `id`, answers that name another put are
   * stale (from a put that failed locally while its answer was in flight) and are skipped.
   */
  async next(id?: string): Promise<ServerMessage> {
    for (;;) {
      const message = await this.#nextAny();
      if (id !== undefined && 'id' in message && message.id !== undefined && message.id !== id) continue;
      return message;
    }
  }

  /** Closes the socket at once, failing whoever waits, and every later call, with ERR_CONNECTION_CLOSED. */
  destroy(): void {
    this.#fail(new ConnectionClosedError('connection closed by the client'));
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#lastActivity = Date.now();
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.#fail(err as Error);
      this.#socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (frame.kind !== FrameKind.Control) {
        this.#fail(new UnexpectedMessageError('data frame from the server', 'a control frame'));
        this.#socket.destroy();
        return;
      }
      let message: ServerMessage;
      try {
        message = parseServerMessage(frame.payload, {
          ignoreUnknownFields: this.ignoreUnknownFields,
          capabilities: this.capabilities,
        });
      } catch (err) {
        this.#fail(err as Error);
        this.#socket.destroy();
        return;
      }
      if (message.type === 'pong' && this.#pendingPongs > 0 && message.nonce === undefined) {
        this.#pendingPongs -= 1;
        continue;
      }
      if (message.type === 'notice') {
        if (!this.capabilities.has(PENDING_NOTICE_CAPABILITY)) {
          this.#fail(new UnexpectedMessageError('notice', 'no notice: pending-notice was not negotiated'));
          this.#socket.destroy();
          return;
        }
        // The operator has up to timeoutMs to decide: the answer may come that much later than usual.
        if (message.code === NOTICE_PENDING_APPROVAL && message.timeoutMs !== undefined) {
          this.#patientUntil = Math.max(this.#patientUntil, Date.now() + message.timeoutMs + this.#timeoutMs);
        }
        if (!this.#abandoned.has(message.id)) this.onNotice?.(message);
        continue;
      }
      if ('id' in message && message.id !== undefined && this.#abandoned.has(message.id)) {
        // A late answer to a put we already gave up on. An error or receipt is its last word.
        if (message.type !== 'ready') this.#abandoned.delete(message.id);
        continue;
      }
      if (message.type === 'error' && message.fatal) {
        // A fatal error ends the connection: whoever waits gets it, and so does every later call.
        this.#fail(remoteError(message));
        continue;
      }
      // The put's wait is over: a later wait gets the usual timeout again.
      if (message.type !== 'pong') this.#patientUntil = 0;
      const waiter = this.#waiter;
      if (waiter) {
        this.#waiter = undefined;
        waiter.resolve(message);
      } else {
        this.#inbox.push(message);
      }
    }
  }

  #nextAny(): Promise<ServerMessage> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<ServerMessage>((resolve, reject) => {
      const expire = (): void => {
        // A notice said the answer may take longer: wait until then (docs/PROTOCOL.md §4, "Notices").
        const more = this.#patientUntil - Date.now();
        if (more > 0) {
          timer = setTimeout(expire, more);
          return;
        }
        // #fail rejects the waiter (this promise) and every later call.
        this.#fail(new TimeoutError('response', this.#timeoutMs));
        this.#socket.destroy();
      };
      let timer = setTimeout(expire, this.#timeoutMs);
      this.#waiter = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  #fail(err: Error): void {
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    if (!this.#closed) this.#closed = err;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#closed);
  }
}
