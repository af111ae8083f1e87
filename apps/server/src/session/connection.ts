/**
 * A client's socket as a sequence of frames (docs/PROTOCOL.md §2): the input is decoded one frame at a time and
 * each frame handed to the session (./session.ts) strictly in order by one async pump. While the session's handling
 * of a frame waits (the input budget, a full window of file writes, a commit, an approval) the socket is paused,
 * so a fast client cannot fill memory (backpressure); answers the client leaves unread pause it too, and a client
 * that does not read them is cut off. The connection times the handshake, the silence between frames and the rate
 * of a transfer (./rate-guard.ts), and closes with a fatal error, giving the client time to read it.
 */
import type { Socket } from 'node:net';
import { ShuttingDownError, TimeoutError, TooSlowError, type ProtocolError } from '@proj/protocol';
import { errorEnvelope, FrameDecoder, FrameWriter, type FrameKind, type ServerMessage } from '@proj/protocol/wire';
import { toProtocolError } from '../error-code';
import { noteReceived } from '../heap';
import type { Logger } from '../logger';
import type { ServerLimits } from '../options';
import { IdleTimer } from './idle-timer';
import { RateGuard } from './rate-guard';

/**
 * Largest control frame payload, and the frame limit before the handshake completes (docs/PROTOCOL.md §2). The
 * largest envelope a client sends (a hello with a 4096-character token and 64 capabilities) is far below it; a
 * connection therefore never holds more than this for a frame that is not a put's data.
 */
const CONTROL_FRAME_BYTES = 64 * 1024;
/** After a fatal error, how long the client has to read it before the socket is destroyed. */
const FATAL_LINGER_MS = 2000;
/** With idle timeouts off, how long a client may leave the server's answers unread before it is cut off. */
const DRAIN_TIMEOUT_MS = 60_000;

/** What the connection asks of the protocol spoken over it (./session.ts). */
export interface FrameHandler {
  /** Handles one frame (or a piece of a data frame); returns a promise only when the handling has to wait. */
  handle(kind: FrameKind, payload: Buffer): Promise<void> | void;
  /** True once the client completed its handshake. */
  welcomed(): boolean;
  /** In the middle of a put: its body is being received (or skipped). */
  inPut(): boolean;
  /** Before the hello or between puts: closing now cuts nothing short. */
  idle(): boolean;
  /** The socket closed; `reason` says why, when the server knows. */
  closed(reason: string | undefined): void;
  /** Gives back what a put in progress holds, once no frame is being handled. */
  release(): Promise<void>;
  /** Told of each message sent (the metrics count the errors). */
  sent?(message: ServerMessage): void;
}

/** Who is at the other end, when the socket's own address is a balancer's (../proxy-accept.ts). */
export interface Peer {
  address: string;
  port: number;
}

export class Connection {
  /** The client's address and port, as logs and the screen show it. */
  readonly sender: string;
  /** The client's address, as admission counts it. */
  readonly address: string;
  /** Resolves once the socket is closed and everything the session held is cleaned up. */
  readonly done: Promise<void>;

  readonly #socket: Socket;
  readonly #limits: ServerLimits;
  readonly #log: Logger;
  readonly #handler: FrameHandler;
  /**
   * Frames are decoded one at a time as the session handles them, so input waiting while a frame is handled
   * stays raw bytes. Data payloads come in pieces as they arrive: a body's bytes are copied once, into the
   * dictionary's buffer or a file's write buffers, however small the frames.
   */
  readonly #decoder = new FrameDecoder({
    maxFrameBytes: CONTROL_FRAME_BYTES,
    maxControlBytes: CONTROL_FRAME_BYTES,
    dataPieces: true,
  });
  readonly #writer: FrameWriter;
  /** No more frames are handled: the connection is ending or ended. */
  #closed = false;
  #pumping = false;
  /** The socket is paused while the session waits (a write window, a commit, an approval, the input budget). */
  #paused = false;
  /** The client shut down its sending side: what arrived is answered, then the connection ends. */
  #inputEnded = false;
  readonly #guard: RateGuard;
  #socketClosed = false;
  #shutdownRequested = false;
  #closeReason: string | undefined;
  readonly #timer: IdleTimer;
  /** Closes the socket if the client does not after a fatal error; cleared on close, so the session is freed. */
  #linger: NodeJS.Timeout | undefined;
  readonly #withdraw = new AbortController();
  #resolveDone!: () => void;

  constructor(socket: Socket, limits: ServerLimits, log: Logger, handler: FrameHandler, peer?: Peer) {
    this.#socket = socket;
    this.#limits = limits;
    this.#log = log;
    this.#handler = handler;
    this.#writer = new FrameWriter(socket, Number.MAX_SAFE_INTEGER);
    this.sender = formatAddress(peer?.address ?? socket.remoteAddress, peer?.port ?? socket.remotePort);
    this.address = peer?.address ?? socket.remoteAddress ?? 'unknown';
    const { minRateBytesPerSec, transferTimeoutMs } = limits;
    this.#guard = new RateGuard(minRateBytesPerSec, transferTimeoutMs, () => {
      this.#closeReason ??= 'too slow';
      this.#fatal(new TooSlowError(minRateBytesPerSec, transferTimeoutMs));
    });
    this.#timer = new IdleTimer((phase, ms) => {
      this.#closeReason ??= `${phase} timeout`;
      this.#fatal(new TimeoutError(phase, ms));
    });
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err) => log.debug({ err, sender: this.sender }, 'socket error'));
    socket.on('close', () => this.#onClose());
    this.#timer.start(limits.handshakeTimeoutMs, 'handshake');
    log.info({ sender: this.sender }, 'connection');
  }

  /** Aborted when the connection ends: whatever a put waits for (the budget, a decoder, the operator) stops waiting. */
  get signal(): AbortSignal {
    return this.#withdraw.signal;
  }

  /** True once the socket is closed. */
  get socketClosed(): boolean {
    return this.#socketClosed;
  }

  /** True once the server began to shut down: no further put is taken. */
  get shutdownRequested(): boolean {
    return this.#shutdownRequested;
  }

  /** The handshake is done: frames up to the server's limit, and the idle timeout instead of the handshake's. */
  welcome(): void {
    this.#decoder.maxFrameBytes = this.#limits.maxFrameBytes;
    this.#timer.start(this.#limits.idleTimeoutMs, 'idle');
  }

  /**
   * Begins shutdown: an idle connection is closed now with ERR_SHUTTING_DOWN; one in the middle of a put
   * finishes it first, and is closed once idle.
   */
  shutdown(): void {
    this.#shutdownRequested = true;
    if (this.#isIdle()) this.#fatal(new ShuttingDownError());
  }

  /** Closes a connection still waiting for its hello with `err`, to make room for a newer one (see Admission). */
  evict(err: ProtocolError): void {
    this.#closeReason ??= 'evicted while waiting for its hello';
    this.#fatal(err);
    // No linger for an evicted socket: closed once the error is written, so evictions cannot fill the raw cap.
    if (this.#socket.writableFinished) this.#socket.destroy();
    else this.#socket.once('finish', () => this.#socket.destroy());
  }

  /** Closes the connection now; a put in progress is discarded. */
  destroy(reason: string): void {
    this.#closeReason ??= reason;
    this.#socket.destroy();
  }

  /** Closes the connection now, without a word: no answer the server could send would be true or read. */
  cut(reason: string): void {
    this.#closeReason ??= reason;
    this.#closed = true;
    this.#socket.destroy();
  }

  send(message: ServerMessage): void {
    if (this.#socketClosed || this.#socket.destroyed || !this.#socket.writable) return;
    this.#writer.control(message);
    this.#handler.sent?.(message);
  }

  /** Ends the connection (the client said bye): no more frames are handled, the socket closes. */
  end(reason: string): void {
    this.#closeReason ??= reason;
    this.#end();
  }

  // -- input ------------------------------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.#guard.credit(chunk.length);
    noteReceived(chunk.length); // frees the socket's read buffers (../heap.ts)
    // Mid-transfer the minimum rate judges the client, not the idle timeout: its bytes keep the idle timer off.
    if (this.#guard.active) this.#timer.touch();
    try {
      this.#decoder.feed(chunk);
    } catch (err) {
      this.#fatal(err);
      return;
    }
    if (!this.#pumping) void this.#pump();
  }

  #onEnd(): void {
    this.#inputEnded = true;
    if (!this.#pumping) this.#finishInput();
  }

  /**
   * The client shut down its sending side (docs/PROTOCOL.md §4), and every frame it sent has been handled and
   * answered. A stream cut inside a frame gets ERR_FRAME_TRUNCATED; a put left incomplete is not stored. Then the
   * server ends its side too.
   */
  #finishInput(): void {
    if (this.#closed || this.#socketClosed) return;
    try {
      this.#decoder.end();
    } catch (err) {
      this.#closeReason ??= 'ended inside a frame';
      this.#fatal(err);
      return;
    }
    this.#closeReason ??= this.#handler.inPut() ? 'ended inside a put' : 'client done sending';
    this.#end();
  }

  /**
   * Handles frames one at a time, decoding each as it goes. The socket is paused only while a frame's handling
   * awaits something (a full write window, a commit, an approval, the input budget, a client that does not read
   * its answers): most data frames of a file put are handled without waiting, and cost no pause and resume.
   */
  async #pump(): Promise<void> {
    this.#pumping = true;
    const pause = (): void => {
      this.#timer.pause(); // again each time: the hello may have started the idle timer meanwhile
      this.#guard.stop(); // the server is the one waiting
      if (this.#paused) return;
      this.#paused = true;
      this.#socket.pause();
    };
    try {
      while (!this.#closed) {
        const frame = this.#decoder.next();
        if (frame === undefined) break;
        // A frame counts as activity, not a byte: a client dripping a byte every few seconds is not active.
        this.#timer.touch();
        const waiting = this.#handler.handle(frame.kind, frame.payload);
        if (waiting) {
          pause();
          await waiting;
        }
        // Backpressure on the way out: a client that sends and never reads must not make the server buffer its
        // answers without bound. The socket stays paused until the client has read them.
        if (this.#socket.writableNeedDrain) {
          pause();
          await this.#drainOrCut();
        }
      }
    } catch (err) {
      this.#fatal(err);
    } finally {
      this.#pumping = false;
      if (this.#socketClosed) {
        await this.#cleanup();
      } else if (!this.#closed) {
        if (this.#inputEnded) {
          this.#finishInput();
        } else if (this.#shutdownRequested && this.#isIdle()) {
          this.#fatal(new ShuttingDownError());
        } else {
          this.#timer.resume();
          if (this.#paused) {
            this.#paused = false;
            this.#socket.resume();
          }
          this.#watchTransfer();
        }
      }
    }
  }

  /**
   * Times the client's sending while it is in the middle of something (a frame, a put's body): between frames
   * the idle timeout applies instead, and only whole frames reset it.
   */
  #watchTransfer(): void {
    const receiving = this.#handler.welcomed() && (this.#decoder.inFrame || this.#handler.inPut());
    if (receiving && !this.#closed) this.#guard.start();
    else this.#guard.stop();
  }

  #isIdle(): boolean {
    return !this.#pumping && !this.#closed && this.#handler.idle();
  }

  // -- output and the end -----------------------------------------------------------------------------------------

  /**
   * Waits until the client has read what was written. A client that does not read within the idle timeout (or
   * a minute when idle timeouts are off) is cut off: it cannot be sent an error it would not read either.
   */
  async #drainOrCut(): Promise<void> {
    const idle = this.#limits.idleTimeoutMs;
    const ms = idle > 0 ? idle : DRAIN_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.#writer.drain().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
    ]);
    clearTimeout(timer);
    if (!drained && !this.#socketClosed) {
      this.#log.info(
        { sender: this.sender, buffered: this.#socket.writableLength },
        'client does not read its answers; closing',
      );
      this.cut('not reading');
    }
  }

  /** Sends a fatal error and closes the connection. */
  #fatal(err: unknown): void {
    if (this.#closed) return;
    const coded = toProtocolError(err, this.#log, this.sender);
    this.#log.info({ sender: this.sender, code: coded.code }, 'closing the connection on a fatal error');
    this.#closeReason ??= coded.code;
    this.send(errorEnvelope(coded, { fatal: true }));
    this.#end();
  }

  /** Ends the connection: no more frames are handled, the rest of the input is drained, the socket closes. */
  #end(): void {
    this.#closed = true;
    this.#timer.clear();
    this.#withdraw.abort();
    this.#socket.end();
    this.#socket.resume();
    this.#linger = setTimeout(() => this.#socket.destroy(), FATAL_LINGER_MS);
    this.#linger.unref();
  }

  #onClose(): void {
    clearTimeout(this.#linger);
    this.#socketClosed = true;
    this.#closed = true;
    this.#timer.clear();
    this.#withdraw.abort();
    this.#handler.closed(this.#closeReason);
    if (!this.#pumping) void this.#cleanup();
  }

  async #cleanup(): Promise<void> {
    try {
      this.#guard.stop();
      await this.#handler.release();
    } finally {
      this.#resolveDone();
    }
  }
}

function formatAddress(address: string | undefined, port: number | undefined): string {
  const host = address ?? 'unknown';
  return host.includes(':') ? `[${host}]:${port ?? 0}` : `${host}:${port ?? 0}`;
}
