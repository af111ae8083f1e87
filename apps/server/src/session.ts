/**
 * One client connection (docs/PROTOCOL.md §4): handshake, then puts one after another, each answered by exactly
 * one receipt or error. Frames are handled strictly in order by one async pump; while a frame's handling waits (a
 * full window of file writes, a commit, an approval) the socket is paused, so a fast client cannot fill memory
 * (backpressure). File writes in flight are bounded per connection (WRITE_WINDOW_BYTES, ./file-writes.ts).
 *
 * A session never throws past its boundary: every failure becomes an `error` envelope with a code, and a fatal
 * one closes this connection only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  ChecksumMismatchError,
  FileTooLargeError,
  FrameDecoder,
  FrameKind,
  FrameWriter,
  OffsetError,
  PROTOCOL_VERSION,
  ProtocolError,
  RejectedError,
  ShuttingDownError,
  SizeMismatchError,
  SUPPORTED_VERSIONS,
  TimeoutError,
  TooManyConnectionsError,
  TooSlowError,
  UnexpectedMessageError,
  VersionError,
  AuthError,
  DictTooLargeError,
  parseClientMessage,
  type ClientMessage,
  type PutDict,
  type PutFile,
  type FileEnd,
  type ServerMessage,
  type Welcome,
} from '@proj/protocol';
import type { ApprovalQueue, ApprovalRequest } from './approval';
import type { DictDecoderPool } from './dict-decoder-pool';
import { toProtocolError } from './error-code';
import type { InputBudget } from './input-budget';
import { decryptStream, type Keys } from './keys';
import type { Logger } from './logger';
import type { ServerOptions } from './options';
import { Output, SCREEN_MAX_BYTES, type SessionStats } from './output';
import { filePreview } from './screen-preview';
import type { FileSink, ItemStore } from './store/item-store';
import { cleanName } from './store/paths';
import { toReceipt, type StoredItem } from './store/receipts';
import { RateGuard } from './rate-guard';

/**
 * Largest control frame payload, and the frame limit before the handshake completes (docs/PROTOCOL.md §2). The
 * largest envelope a client sends (a hello with a 4096-character token and 64 capabilities) is far below it; a
 * connection therefore never holds more than this for a frame that is not a put's data.
 */
const CONTROL_FRAME_BYTES = 64 * 1024;
/** A dictionary body is gathered in blocks of this size (see DictPut.blocks). */
const DICT_BLOCK_BYTES = 64 * 1024;
/** After a fatal error, how long the client has to read it before the socket is destroyed. */
const FATAL_LINGER_MS = 2000;
/** With idle timeouts off, how long a client may leave the server's answers unread before it is cut off. */
const DRAIN_TIMEOUT_MS = 60_000;
const AGENT = 'proj-server/0.1.0';

/** What every session shares with the server that runs it. */
export interface SessionContext {
  options: ServerOptions;
  serverId: string;
  store: ItemStore;
  keys: Keys;
  /** The token clients must present, when one is configured. */
  token?: string;
  log: Logger;
  output: Output;
  approval?: ApprovalQueue;
  /** Memory for input shared by all sessions: dictionary bodies and file bytes on their way to the disk. */
  budget: InputBudget;
  /** Decodes dictionary bodies, large ones off the event loop. */
  dictDecoder: DictDecoderPool;
  /** Called once the session completed its handshake. */
  onWelcomed(session: Session): void;
  /** Sessions past their handshake, this one excluded. */
  welcomedCount(): number;
  isShuttingDown(): boolean;
}

const State = {
  Hello: 'hello',
  Idle: 'idle',
  DictBody: 'dict-body',
  FileBody: 'file-body',
  FileDiscard: 'file-discard',
  Closed: 'closed',
} as const;
type State = (typeof State)[keyof typeof State];

interface DictPut {
  msg: PutDict;
  /** Set when the put arrived after shutdown began: its body is read and then refused. */
  refused: boolean;
  /**
   * The body as it arrives, however it is framed: copied into blocks of at most DICT_BLOCK_BYTES, each taken
   * from the input budget only when the bytes for it arrive. A client that announces 1 MiB and sends slowly holds
   * one block, not the megabyte.
   */
  blocks: Buffer[];
  received: number;
  /** Bytes taken from the input budget for the blocks. */
  reserved: number;
}

/** A file put in progress: what the client announced, and the sink its bytes go to. */
interface FilePut {
  msg: PutFile;
  cleaned: string;
  sink: FileSink;
}

export class Session {
  readonly sender: string;
  /** The client's address, as admission counts it. */
  readonly address: string;
  readonly stats: SessionStats = { dicts: 0, files: 0, bytes: 0 };
  /** Resolves once the socket is closed and everything the session held is cleaned up. */
  readonly done: Promise<void>;

  #ctx: SessionContext;
  #socket: Socket;
  /**
   * Frames are decoded one at a time as the session handles them, so input waiting while a frame is handled
   * stays raw bytes. Data payloads come in pieces as they arrive: a body's bytes are copied once, into the
   * dictionary's buffer or a file's write buffers, however small the frames.
   */
  #decoder = new FrameDecoder({ maxFrameBytes: CONTROL_FRAME_BYTES, maxControlBytes: CONTROL_FRAME_BYTES, dataPieces: true });
  #writer: FrameWriter;
  #state: State = State.Hello;
  #welcomed = false;
  #pumping = false;
  /** The socket is paused while the session waits (a write window, a commit, an approval, the input budget). */
  #paused = false;
  /** The client shut down its sending side: what arrived is answered, then the connection ends. */
  #inputEnded = false;
  #guard: RateGuard;
  #socketClosed = false;
  #shutdownRequested = false;
  #closeReason: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Closes the socket if the client does not after a fatal error; cleared on close, so the session is freed. */
  #linger: NodeJS.Timeout | undefined;
  #dict: DictPut | undefined;
  #file: FilePut | undefined;
  #discardId: string | undefined;
  #withdraw = new AbortController();
  #resolveDone!: () => void;

  constructor(socket: Socket, ctx: SessionContext) {
    this.#ctx = ctx;
    this.#socket = socket;
    this.#writer = new FrameWriter(socket, Number.MAX_SAFE_INTEGER);
    this.sender = formatAddress(socket.remoteAddress, socket.remotePort);
    this.address = socket.remoteAddress ?? 'unknown';
    const { minRateBytesPerSec, transferTimeoutMs } = ctx.options.limits;
    this.#guard = new RateGuard(minRateBytesPerSec, transferTimeoutMs, () => {
      this.#closeReason ??= 'too slow';
      this.#fatal(new TooSlowError(minRateBytesPerSec, transferTimeoutMs));
    });
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err) => ctx.log.debug({ err, sender: this.sender }, 'socket error'));
    socket.on('close', () => this.#onClose());
    this.#startTimer(ctx.options.limits.handshakeTimeoutMs, 'handshake');
    ctx.log.info({ sender: this.sender }, 'connection');
  }

  /** True once the client completed its handshake. */
  get welcomed(): boolean {
    return this.#welcomed;
  }

  /**
   * Begins shutdown: an idle session is closed now with ERR_SHUTTING_DOWN; a session in the middle of a put
   * finishes it first, and refuses any further put.
   */
  shutdown(): void {
    this.#shutdownRequested = true;
    if (this.#isIdle()) this.#fatal(new ShuttingDownError());
  }

  /** Closes a connection still waiting for its hello, to make room for a newer one (see Admission). */
  evict(): void {
    this.#closeReason ??= 'evicted while waiting for its hello';
    this.#fatal(new TooManyConnectionsError(this.#ctx.options.limits.maxPendingConnections));
    // No linger for an evicted socket: closed once the error is written, so evictions cannot fill the raw cap.
    if (this.#socket.writableFinished) this.#socket.destroy();
    else this.#socket.once('finish', () => this.#socket.destroy());
  }

  /** Closes the connection now; a put in progress is discarded. */
  destroy(): void {
    this.#closeReason ??= 'closed by the server';
    this.#socket.destroy();
  }

  // -- input ------------------------------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#state === State.Closed) return;
    this.#guard.credit(chunk.length);
    // Mid-transfer the minimum rate judges the client, not the idle timeout: its bytes keep the idle timer off.
    if (this.#guard.active && this.#timerPhase === 'idle' && !this.#timerPaused) this.#timer?.refresh();
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
    if (this.#state === State.Closed || this.#socketClosed) return;
    try {
      this.#decoder.end();
    } catch (err) {
      this.#closeReason ??= 'ended inside a frame';
      this.#fatal(err);
      return;
    }
    const inPut = this.#state === State.DictBody || this.#state === State.FileBody || this.#state === State.FileDiscard;
    this.#closeReason ??= inPut ? 'ended inside a put' : 'client done sending';
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
      this.#pauseTimer(); // again each time: the hello may have started the idle timer meanwhile
      this.#guard.stop(); // the server is the one waiting
      if (this.#paused) return;
      this.#paused = true;
      this.#socket.pause();
    };
    try {
      while (this.#state !== State.Closed) {
        const frame = this.#decoder.next();
        if (frame === undefined) break;
        // A frame counts as activity, not a byte: a client dripping a byte every few seconds is not active.
        if (this.#timerPhase === 'idle' && !this.#timerPaused) this.#timer?.refresh();
        const waiting = this.#handle(frame.kind, frame.payload);
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
      } else if (this.#state !== State.Closed) {
        if (this.#inputEnded) {
          this.#finishInput();
        } else if (this.#shutdownRequested && this.#isIdle()) {
          this.#fatal(new ShuttingDownError());
        } else {
          this.#resumeTimer();
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
    const s = this.#state;
    const receiving = this.#welcomed && (this.#decoder.inFrame || s === State.DictBody || s === State.FileBody || s === State.FileDiscard);
    if (receiving && s !== State.Closed) this.#guard.start();
    else this.#guard.stop();
  }

  /** Handles one frame (or a piece of a data frame); returns a promise only when the handling has to wait. */
  #handle(kind: FrameKind, payload: Buffer): Promise<void> | void {
    if (kind === FrameKind.Data) return this.#onDataFrame(payload);
    const msg = parseClientMessage(payload);
    // Before the handshake only a hello is allowed (docs/PROTOCOL.md §4): a ping there is unexpected.
    if (msg.type === 'ping' && this.#state !== State.Hello) {
      this.#send({ type: 'pong', ...(msg.nonce !== undefined ? { nonce: msg.nonce } : {}) });
      return;
    }
    switch (this.#state) {
      case State.Hello:
        return this.#onHello(msg);
      case State.Idle:
        return this.#onIdleMessage(msg);
      case State.DictBody:
        throw new UnexpectedMessageError(msg.type, 'the dictionary data frames');
      case State.FileBody:
        return this.#onFileMessage(msg);
      case State.FileDiscard:
        return this.#onDiscardMessage(msg);
      default:
        return;
    }
  }

  /** A data frame's payload, or a piece of it (they come as they arrive). */
  #onDataFrame(payload: Buffer): Promise<void> | void {
    switch (this.#state) {
      case State.DictBody:
        return this.#onDictData(payload);
      case State.FileBody:
        return this.#onFileData(payload);
      case State.FileDiscard:
        return; // ignored until file_end or cancel (docs/PROTOCOL.md §4)
      default:
        throw new UnexpectedMessageError('data frame', this.#state === State.Hello ? 'hello' : 'a put');
    }
  }

  // -- handshake --------------------------------------------------------------------------------------------------

  #onHello(msg: ClientMessage): void {
    if (msg.type !== 'hello') throw new UnexpectedMessageError(msg.type, 'hello');
    const { options, token } = this.#ctx;
    if (!SUPPORTED_VERSIONS.includes(msg.version)) throw new VersionError(msg.version, SUPPORTED_VERSIONS);
    if (token !== undefined && (msg.token === undefined || !tokensEqual(msg.token, token))) {
      this.#ctx.log.warn({ sender: this.sender }, 'authentication failed');
      throw new AuthError();
    }
    if (this.#ctx.isShuttingDown()) throw new ShuttingDownError();
    if (this.#ctx.welcomedCount() >= options.limits.maxConnections) {
      throw new TooManyConnectionsError(options.limits.maxConnections);
    }
    const { limits } = options;
    const welcome: Welcome = {
      type: 'welcome',
      version: PROTOCOL_VERSION,
      agent: AGENT,
      serverId: this.#ctx.serverId,
      limits: {
        maxFrameBytes: limits.maxFrameBytes,
        maxDictBytes: limits.maxDictBytes,
        maxDictDepth: limits.maxDictDepth,
        maxFileBytes: limits.maxFileBytes,
        idleTimeoutMs: limits.idleTimeoutMs,
      },
      formats: ['json', 'xml', 'protobuf'],
      encryption: {
        accepts: ['none', 'age'],
        recipient: this.#ctx.keys.recipient,
        canDecrypt: this.#ctx.keys.canDecrypt,
      },
    };
    this.#decoder.maxFrameBytes = limits.maxFrameBytes;
    this.#welcomed = true;
    this.#ctx.onWelcomed(this);
    this.#state = State.Idle;
    this.#clearTimer();
    this.#startTimer(limits.idleTimeoutMs, 'idle');
    this.#send(welcome);
    this.#ctx.log.info({ sender: this.sender, agent: msg.agent }, 'welcome');
    this.#ctx.output.connected(this.sender);
  }

  // -- idle -------------------------------------------------------------------------------------------------------

  async #onIdleMessage(msg: ClientMessage): Promise<void> {
    switch (msg.type) {
      case 'put_dict':
        if (msg.bytes > this.#ctx.options.limits.maxDictBytes) {
          throw new DictTooLargeError(msg.bytes, this.#ctx.options.limits.maxDictBytes);
        }
        this.#dict = { msg, refused: this.#shutdownRequested, blocks: [], received: 0, reserved: 0 };
        this.#state = State.DictBody;
        if (msg.bytes === 0) await this.#finishDict();
        return;
      case 'put_file':
        return this.#startFile(msg);
      case 'cancel':
        return; // nothing in progress: never answered
      case 'bye':
        this.#send({ type: 'bye' });
        this.#closeReason ??= 'bye';
        this.#end();
        return;
      default:
        throw new UnexpectedMessageError(msg.type, 'put_dict, put_file, ping or bye');
    }
  }

  // -- dictionaries -----------------------------------------------------------------------------------------------

  #onDictData(payload: Buffer): Promise<void> | void {
    const put = this.#dict as DictPut;
    if (put.received + payload.length > put.msg.bytes) {
      throw new SizeMismatchError(put.msg.bytes, put.received + payload.length);
    }
    const placed = this.#placeDictBytes(put, payload);
    if (placed < payload.length) return this.#placeDictLater(put, payload.subarray(placed));
    if (put.received === put.msg.bytes) return this.#finishDict();
  }

  /**
   * Copies what it can of `payload` into the body's blocks, taking a new block from the input budget when one is
   * full. Returns how many bytes it placed: fewer when the budget had no block to give.
   */
  #placeDictBytes(put: DictPut, payload: Buffer, granted = 0): number {
    let offset = 0;
    while (offset < payload.length) {
      // Every block but the last is full: the last one is full when all the bytes reserved have arrived.
      if (put.received === put.reserved) {
        const size = Math.min(DICT_BLOCK_BYTES, put.msg.bytes - put.received);
        if (granted >= size) granted -= size;
        else if (!this.#ctx.budget.tryTake(size)) break;
        put.reserved += size;
        put.blocks.push(Buffer.allocUnsafeSlow(size));
      }
      const block = put.blocks[put.blocks.length - 1] as Buffer;
      const copied = payload.copy(block, block.length - (put.reserved - put.received), offset);
      offset += copied;
      put.received += copied;
    }
    if (granted > 0) this.#ctx.budget.give(granted);
    return offset;
  }

  /** Waits (socket paused) for the input budget to give the next block, then places the rest of the payload. */
  async #placeDictLater(put: DictPut, rest: Buffer): Promise<void> {
    while (rest.length > 0) {
      const size = Math.min(DICT_BLOCK_BYTES, put.msg.bytes - put.received);
      await this.#ctx.budget.take(size, this.#withdraw.signal);
      rest = rest.subarray(this.#placeDictBytes(put, rest, size));
    }
    if (put.received === put.msg.bytes) return this.#finishDict();
  }

  async #finishDict(): Promise<void> {
    const put = this.#dict as DictPut;
    const { msg, blocks, refused } = put;
    this.#dict = undefined;
    this.#state = State.Idle;
    const { id, format } = msg;
    const bytes = blocks.length === 1 ? (blocks[0] as Buffer) : Buffer.concat(blocks, msg.bytes);
    blocks.length = 0;
    try {
      if (refused) throw new ShuttingDownError();
      const first = await this.#ctx.store.findReceipt(id);
      if (first) return this.#sendDuplicate(first);
      const limits = { maxDictBytes: this.#ctx.options.limits.maxDictBytes, maxDictDepth: this.#ctx.options.limits.maxDictDepth };
      // Large dictionaries are decoded and checked in a worker: one dense dictionary must not stall every client.
      const views = await this.#ctx.dictDecoder.decode(bytes, {
        format,
        limits,
        wanted: { preview: this.#ctx.approval !== undefined, screenChars: this.#ctx.output.showsContent ? SCREEN_MAX_BYTES : 0 },
        signal: this.#withdraw.signal,
      });
      await this.#approve({ kind: 'dict', id, sender: this.sender, detail: format, bytes: bytes.length, ...(views.preview !== undefined ? { preview: views.preview } : {}) });
      const { item, duplicate } = await this.#ctx.store.storeDict({ id, format, data: bytes, sender: this.sender });
      this.#send(toReceipt(item, duplicate));
      if (duplicate) return;
      this.stats.dicts += 1;
      this.stats.bytes += item.bytes;
      this.#ctx.log.info({ sender: this.sender, id, format, bytes: item.bytes, path: item.path }, 'dict stored');
      this.#ctx.output.dict(item, views.screen);
    } catch (err) {
      this.#putError(err, id);
    } finally {
      this.#ctx.budget.give(put.reserved);
    }
  }

  // -- files ------------------------------------------------------------------------------------------------------

  async #startFile(msg: PutFile): Promise<void> {
    const { id } = msg;
    const limits = this.#ctx.options.limits;
    try {
      if (this.#shutdownRequested) throw new ShuttingDownError();
      if (msg.offset !== 0) throw new OffsetError(msg.offset);
      const first = await this.#ctx.store.findReceipt(id);
      if (first) return this.#sendDuplicate(first);
      if (msg.size !== undefined && msg.size > limits.maxFileBytes) throw new FileTooLargeError(msg.size, limits.maxFileBytes);
      const cleaned = cleanName(msg.name);
      await this.#approve({ kind: 'file', id, sender: this.sender, detail: msg.name, ...(msg.size !== undefined ? { bytes: msg.size } : {}) });
      // The first write buffer comes from the shared budget before `ready`; a put that cannot have it waits.
      const sink = await this.#ctx.store.openFileSink({ id, size: msg.size, budget: this.#ctx.budget, signal: this.#withdraw.signal });
      if (this.#socketClosed) {
        await sink.discard();
        return;
      }
      this.#file = { msg, cleaned, sink };
      this.#state = State.FileBody;
      this.#send({ type: 'ready', id, offset: 0 });
    } catch (err) {
      this.#putError(err, id);
    }
  }

  #onFileData(payload: Buffer): Promise<void> | void {
    const put = this.#file as FilePut;
    const { sink } = put;
    const total = sink.received + payload.length;
    const { maxFileBytes } = this.#ctx.options.limits;
    if (total > maxFileBytes) return this.#failFile(new FileTooLargeError(total, maxFileBytes), true);
    if (put.msg.size !== undefined && total > put.msg.size) return this.#failFile(new SizeMismatchError(put.msg.size, total), true);
    const failure = sink.failure;
    if (failure !== undefined) return this.#failFile(failure, true);
    const waiting = sink.write(payload);
    if (waiting) return this.#afterWait(put, waiting);
  }

  /** Waits (socket paused) for the sink to take more bytes; a write that failed meanwhile fails the put. */
  async #afterWait(put: FilePut, waiting: Promise<void>): Promise<void> {
    await waiting;
    const failure = put.sink.failure;
    if (failure !== undefined && this.#file === put) return this.#failFile(failure, true);
  }

  async #onFileMessage(msg: ClientMessage): Promise<void> {
    const put = this.#file as FilePut;
    // A cancel for another id is ignored (docs/PROTOCOL.md §4); a file_end for another id is a protocol error.
    if (msg.type === 'cancel' && msg.id !== put.msg.id) return;
    if (msg.type === 'file_end' && msg.id !== put.msg.id) {
      throw new UnexpectedMessageError(`${msg.type} for ${msg.id}`, `file_end or cancel for ${put.msg.id}`);
    }
    switch (msg.type) {
      case 'file_end':
        return this.#finishFile(msg);
      case 'cancel':
        this.#ctx.log.info({ sender: this.sender, id: msg.id }, 'file put cancelled');
        await this.#discardFile();
        this.#state = State.Idle;
        return;
      case 'bye':
        await this.#discardFile();
        this.#state = State.Idle;
        return this.#onIdleMessage(msg);
      default:
        throw new UnexpectedMessageError(msg.type, 'data frames, file_end or cancel');
    }
  }

  #onDiscardMessage(msg: ClientMessage): Promise<void> | void {
    if ((msg.type === 'file_end' || msg.type === 'cancel') && msg.id === this.#discardId) {
      this.#discardId = undefined;
      this.#state = State.Idle;
      return;
    }
    if (msg.type === 'bye') {
      this.#state = State.Idle;
      return this.#onIdleMessage(msg);
    }
    if (msg.type === 'cancel') return; // for another id: ignored (docs/PROTOCOL.md §4)
    throw new UnexpectedMessageError(msg.type, `file_end or cancel for ${this.#discardId}`);
  }

  /** Fails the file put: error now, temporary removed; `midStream` ignores data until file_end or cancel. */
  async #failFile(err: ProtocolError, midStream: boolean): Promise<void> {
    const id = (this.#file as FilePut).msg.id;
    await this.#discardFile();
    this.#putError(err, id);
    if (midStream) {
      this.#discardId = id;
      this.#state = State.FileDiscard;
    } else {
      this.#state = State.Idle;
    }
  }

  async #finishFile(end: FileEnd): Promise<void> {
    const put = this.#file as FilePut;
    const { msg, sink } = put;
    const sha256 = sink.sha256();
    if (end.bytes !== sink.received) return this.#failFile(new SizeMismatchError(end.bytes, sink.received), false);
    if (msg.size !== undefined && msg.size !== sink.received) return this.#failFile(new SizeMismatchError(msg.size, sink.received), false);
    if (end.sha256 !== sha256) return this.#failFile(new ChecksumMismatchError(end.sha256, sha256), false);
    this.#file = undefined;
    this.#state = State.Idle;
    const { keys, options, output } = this.#ctx;
    try {
      const { item, duplicate, decryptFailure } = await sink.commit({
        name: msg.name,
        cleanedName: put.cleaned,
        declared: msg.encryption,
        sender: this.sender,
        ...(keys.canDecrypt && options.savePlaintext ? { decrypt: () => decryptStream(keys) } : {}),
      });
      this.#send(toReceipt(item, duplicate));
      if (duplicate) return;
      this.stats.files += 1;
      this.stats.bytes += item.bytes;
      this.#ctx.log.info({ sender: this.sender, id: msg.id, bytes: item.bytes, encrypted: item.encrypted, path: item.path }, 'file stored');
      output.file(item, output.showsContent ? await filePreview(item, decryptFailure, this.#ctx.store, keys) : undefined);
    } catch (err) {
      this.#putError(err, msg.id);
    }
  }

  async #discardFile(): Promise<void> {
    const put = this.#file;
    if (!put) return;
    this.#file = undefined;
    await put.sink.discard();
  }

  // -- approval ---------------------------------------------------------------------------------------------------

  async #approve(request: ApprovalRequest): Promise<void> {
    const approval = this.#ctx.approval;
    if (!approval) return;
    const outcome = await approval.ask(request, this.#withdraw.signal);
    this.#ctx.log.info({ sender: this.sender, id: request.id, outcome }, 'operator decision');
    if (outcome === 'timeout') {
      throw new RejectedError(`no answer from the operator within ${this.#ctx.options.limits.approvalTimeoutMs} ms`);
    }
    if (outcome === 'rejected') throw new RejectedError();
  }

  // -- output -----------------------------------------------------------------------------------------------------

  #sendDuplicate(first: StoredItem): void {
    this.#ctx.log.info({ sender: this.sender, id: first.id }, 'duplicate put: answering the first receipt');
    this.#send(toReceipt(first, true));
  }

  #send(message: ServerMessage): void {
    if (this.#socketClosed || this.#socket.destroyed || !this.#socket.writable) return;
    this.#writer.control(message);
  }

  /**
   * Waits until the client has read what was written. A client that does not read within the idle timeout (or
   * a minute when idle timeouts are off) is cut off: it cannot be sent an error it would not read either.
   */
  async #drainOrCut(): Promise<void> {
    const idle = this.#ctx.options.limits.idleTimeoutMs;
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
      this.#ctx.log.info({ sender: this.sender, buffered: this.#socket.writableLength }, 'client does not read its answers; closing');
      this.#closeReason ??= 'not reading';
      this.#state = State.Closed;
      this.#socket.destroy();
    }
  }

  /** Answers a failed put with an error carrying its id; the session goes on unless the error is fatal. */
  #putError(err: unknown, id: string): void {
    if ((err as { code?: unknown } | null)?.code === 'ERR_STORAGE_IN_DOUBT') {
      // The store could not make sure the failed put left nothing behind: no answer would be true. The client
      // sees the connection close and retries with the same id: it gets the first receipt, or stores it anew.
      this.#ctx.log.error({ err, sender: this.sender, id }, 'put failed and may or may not be stored; closing without an answer');
      this.#closeReason ??= 'storage in doubt';
      this.#state = State.Closed;
      this.#socket.destroy();
      return;
    }
    const coded = toProtocolError(err, this.#ctx.log, this.sender);
    if (coded.code === 'ERR_INTERNAL' || coded.code === 'ERR_STORAGE') {
      this.#ctx.log.error({ err, sender: this.sender, id }, 'put failed');
    } else {
      this.#ctx.log.info({ sender: this.sender, id, code: coded.code }, 'put refused');
    }
    this.#send({ type: 'error', code: coded.code, message: coded.message.slice(0, 4096), id, fatal: false });
  }

  /** Sends a fatal error and closes the connection. */
  #fatal(err: unknown): void {
    if (this.#state === State.Closed) return;
    const coded = toProtocolError(err, this.#ctx.log, this.sender);
    this.#ctx.log.info({ sender: this.sender, code: coded.code }, 'closing the connection on a fatal error');
    this.#closeReason ??= coded.code;
    this.#send({ type: 'error', code: coded.code, message: coded.message.slice(0, 4096), fatal: true });
    this.#end();
  }

  /** Ends the connection: no more frames are handled, the rest of the input is drained, the socket closes. */
  #end(): void {
    this.#state = State.Closed;
    this.#clearTimer();
    this.#withdraw.abort();
    this.#socket.end();
    this.#socket.resume();
    this.#linger = setTimeout(() => this.#socket.destroy(), FATAL_LINGER_MS);
    this.#linger.unref();
  }

  #onClose(): void {
    clearTimeout(this.#linger);
    this.#socketClosed = true;
    this.#state = State.Closed;
    this.#clearTimer();
    this.#withdraw.abort();
    if (this.#welcomed) this.#ctx.output.disconnected(this.sender, this.stats, this.#closeReason);
    this.#ctx.log.info({ sender: this.sender, ...this.stats, reason: this.#closeReason }, 'disconnected');
    if (!this.#pumping) void this.#cleanup();
  }

  async #cleanup(): Promise<void> {
    try {
      this.#guard.stop();
      if (this.#dict) this.#ctx.budget.give(this.#dict.reserved);
      this.#dict = undefined;
      await this.#discardFile();
    } finally {
      this.#resolveDone();
    }
  }

  #isIdle(): boolean {
    return !this.#pumping && (this.#state === State.Idle || this.#state === State.Hello);
  }

  // -- timers -----------------------------------------------------------------------------------------------------

  #timerMs = 0;
  #timerPhase: 'handshake' | 'idle' = 'handshake';
  #timerPaused = false;

  #startTimer(ms: number, phase: 'handshake' | 'idle'): void {
    this.#clearTimer();
    this.#timerMs = ms;
    this.#timerPhase = phase;
    if (ms <= 0) return;
    this.#timer = setTimeout(() => {
      this.#closeReason ??= `${phase} timeout`;
      this.#fatal(new TimeoutError(phase, ms));
    }, ms);
    this.#timer.unref();
  }

  /** Server-side work (a write, a commit, an approval) does not count as the client's silence. */
  #pauseTimer(): void {
    if (this.#timerPhase !== 'idle' || this.#timerPaused) return;
    this.#timerPaused = true;
    this.#clearTimer();
  }

  #resumeTimer(): void {
    if (!this.#timerPaused) return;
    this.#timerPaused = false;
    this.#startTimer(this.#timerMs, this.#timerPhase);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Compares tokens in constant time: both are hashed first, so their lengths leak nothing either. */
function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function formatAddress(address: string | undefined, port: number | undefined): string {
  const host = address ?? 'unknown';
  return host.includes(':') ? `[${host}]:${port ?? 0}` : `${host}:${port ?? 0}`;
}
