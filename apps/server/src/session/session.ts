/**
 * One client session (docs/PROTOCOL.md §4): the handshake (./handshake.ts), then puts one after another, each
 * answered by exactly one receipt or error: dictionaries (./dict-put.ts) and files (./file-put.ts). This file is
 * the state machine that says which frame may come next; its connection (./connection.ts) hands it the frames in
 * order, with backpressure and timeouts.
 *
 * A session never throws past its boundary: every failure becomes an `error` envelope with a code, and a fatal
 * one closes this connection only.
 */
import type { Socket } from 'node:net';
import {
  DictTooLargeError,
  RejectedError,
  SUPPORTED_VERSIONS,
  TooManyConnectionsError,
  UnexpectedMessageError,
  type ProtocolError,
} from '@proj/protocol';
import {
  errorEnvelope,
  FrameKind,
  negotiate,
  NOTICE_PENDING_APPROVAL,
  PENDING_NOTICE_CAPABILITY,
  parseClientMessage,
  parseFirstClientMessage,
  type ClientMessage,
  type FileEnd,
  type PutFile,
} from '@proj/protocol/wire';
import type { ApprovalRequest } from '../approval';
import { toProtocolError } from '../error-code';
import type { SessionStats } from '../output/output';
import { toReceipt, type StoredItem } from '../store/receipts';
import { Connection, type Peer } from './connection';
import type { PutHost, SessionContext } from './context';
import { DictPut } from './dict-put';
import { FilePut } from './file-put';
import { welcomeFor } from './handshake';

const State = {
  Hello: 'hello',
  Idle: 'idle',
  DictBody: 'dict-body',
  FileBody: 'file-body',
  FileDiscard: 'file-discard',
} as const;
type State = (typeof State)[keyof typeof State];

export class Session {
  /** The client's address and port, as logs and the screen show it. */
  readonly sender: string;
  /** The client's address, as admission counts it. */
  readonly address: string;
  readonly stats: SessionStats = { dicts: 0, files: 0, bytes: 0 };
  /** Resolves once the socket is closed and everything the session held is cleaned up. */
  readonly done: Promise<void>;

  readonly #ctx: SessionContext;
  readonly #conn: Connection;
  #host: PutHost | undefined;
  #state: State = State.Hello;
  #welcomed = false;
  #capabilities: ReadonlySet<string> = new Set();
  #dict: DictPut | undefined;
  #file: FilePut | undefined;
  /** The id of a failed file put whose data frames are skipped until its file_end or cancel. */
  #discardId: string | undefined;

  /** `peer`: the client, when a PROXY protocol header named it (the socket's address is then the balancer's). */
  constructor(socket: Socket, ctx: SessionContext, peer?: Peer) {
    this.#ctx = ctx;
    this.#conn = new Connection(
      socket,
      ctx.options.limits,
      ctx.log,
      {
        handle: (kind, payload) => this.#handle(kind, payload),
        welcomed: () => this.#welcomed,
        inPut: () =>
          this.#state === State.DictBody || this.#state === State.FileBody || this.#state === State.FileDiscard,
        idle: () => this.#state === State.Idle || this.#state === State.Hello,
        closed: (reason) => this.#onClose(reason),
        release: () => this.#release(),
        sent: (message) => {
          if (message.type === 'error') ctx.metrics?.refused(message.code);
        },
      },
      peer,
    );
    this.sender = this.#conn.sender;
    this.address = this.#conn.address;
    this.done = this.#conn.done;
  }

  /**
   * What a put uses of this session, made at the first put: a connection that never puts (most of a crowd of idle
   * ones) does not hold its closures (~1 KiB each: docs/BENCHMARKS.md, "Memory").
   */
  #putHost(): PutHost {
    if (this.#host) return this.#host;
    const conn = this.#conn;
    const negotiated = (): ReadonlySet<string> => this.#capabilities;
    this.#host = {
      ctx: this.#ctx,
      sender: this.sender,
      stats: this.stats,
      get capabilities() {
        return negotiated();
      },
      get signal() {
        return conn.signal;
      },
      get socketClosed() {
        return conn.socketClosed;
      },
      send: (message) => conn.send(message),
      sendDuplicate: (first) => this.#sendDuplicate(first),
      approve: (request) => this.#approve(request),
      putError: (err, id) => this.#putError(err, id),
      evict: () => this.#conn.destroy('a newer put of the same id resumes'),
    };
    return this.#host;
  }

  /** True once the client completed its handshake. */
  get welcomed(): boolean {
    return this.#welcomed;
  }

  /** The capabilities this connection negotiated (docs/PROTOCOL.md §4, "Capabilities"); empty before the welcome. */
  get capabilities(): ReadonlySet<string> {
    return this.#capabilities;
  }

  /**
   * Begins shutdown: an idle session is closed now with ERR_SHUTTING_DOWN; a session in the middle of a put
   * finishes it first, and refuses any further put.
   */
  shutdown(): void {
    this.#conn.shutdown();
  }

  /** Closes a connection still waiting for its hello, to make room for a newer one (see Admission). */
  evict(): void {
    this.#conn.evict(new TooManyConnectionsError(this.#ctx.options.limits.maxPendingConnections));
  }

  /** Closes the connection now; a put in progress is discarded. */
  destroy(): void {
    this.#conn.destroy('closed by the server');
  }

  /** Handles one frame (or a piece of a data frame); returns a promise only when the handling has to wait. */
  #handle(kind: FrameKind, payload: Buffer): Promise<void> | void {
    if (kind === FrameKind.Data) return this.#onDataFrame(payload);
    // The first frame is read version first: a hello of a version we do not speak is ERR_VERSION, whatever it holds.
    const msg =
      this.#state === State.Hello
        ? parseFirstClientMessage(payload, SUPPORTED_VERSIONS)
        : parseClientMessage(payload, { capabilities: this.#capabilities });
    // Before the handshake only a hello is allowed (docs/PROTOCOL.md §4): a ping there is unexpected.
    if (msg.type === 'ping' && this.#state !== State.Hello) {
      this.#conn.send({ type: 'pong', ...(msg.nonce !== undefined ? { nonce: msg.nonce } : {}) });
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

  #onHello(msg: ClientMessage): void {
    if (msg.type !== 'hello') throw new UnexpectedMessageError(msg.type, 'hello');
    const welcome = welcomeFor(msg, this.#ctx, this.sender);
    this.#capabilities = new Set(negotiate(msg.capabilities, this.#ctx.capabilities));
    this.#welcomed = true;
    this.#ctx.onWelcomed(this);
    this.#state = State.Idle;
    this.#conn.welcome();
    this.#conn.send(welcome);
    this.#ctx.log.info({ sender: this.sender, agent: msg.agent, capabilities: [...this.#capabilities] }, 'welcome');
    this.#ctx.output.connected(this.sender);
  }

  async #onIdleMessage(msg: ClientMessage): Promise<void> {
    switch (msg.type) {
      case 'put_dict':
        if (msg.bytes > this.#ctx.options.limits.maxDictBytes) {
          throw new DictTooLargeError(msg.bytes, this.#ctx.options.limits.maxDictBytes);
        }
        this.#dict = new DictPut(msg, this.#conn.shutdownRequested, this.#putHost());
        this.#state = State.DictBody;
        if (msg.bytes === 0) await this.#finishDict();
        return;
      case 'put_file':
        return this.#startFile(msg);
      case 'cancel':
        return; // nothing in progress: never answered
      case 'bye':
        this.#conn.send({ type: 'bye' });
        this.#conn.end('bye');
        return;
      default:
        throw new UnexpectedMessageError(msg.type, 'put_dict, put_file, ping or bye');
    }
  }

  // -- dictionaries -----------------------------------------------------------------------------------------------

  #onDictData(payload: Buffer): Promise<void> | void {
    const put = this.#dict as DictPut;
    const waiting = put.write(payload);
    if (waiting) return waiting.then(() => (put.complete ? this.#finishDict() : undefined));
    if (put.complete) return this.#finishDict();
  }

  #finishDict(): Promise<void> {
    const put = this.#dict as DictPut;
    this.#dict = undefined;
    this.#state = State.Idle;
    return put.store();
  }

  // -- files ------------------------------------------------------------------------------------------------------

  async #startFile(msg: PutFile): Promise<void> {
    const put = await FilePut.open(msg, this.#conn.shutdownRequested, this.#putHost());
    if (!put) return;
    this.#file = put;
    this.#state = State.FileBody;
    // A continued partial (docs/PROTOCOL.md §4, "Resuming"): send from its durable count, and here is its hash.
    const { offset, offsetSha256 } = put.sink;
    this.#conn.send({
      type: 'ready',
      id: msg.id,
      offset,
      ...(offsetSha256 !== undefined ? { sha256: offsetSha256 } : {}),
    });
  }

  #onFileData(payload: Buffer): Promise<void> | void {
    const put = this.#file as FilePut;
    const refusal = put.refusal(payload.length);
    if (refusal !== undefined) return this.#failFile(refusal, true);
    const waiting = put.sink.write(payload);
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
    const refusal = put.endRefusal(end);
    if (refusal !== undefined) return this.#failFile(refusal, false);
    this.#file = undefined;
    this.#state = State.Idle;
    await put.store();
  }

  async #discardFile(): Promise<void> {
    const put = this.#file;
    if (!put) return;
    this.#file = undefined;
    await put.sink.discard();
  }

  /** A put cut by the connection's end: on a resume connection its bytes stay as a partial (./file-put.ts). */
  async #suspendFile(): Promise<void> {
    const put = this.#file;
    if (!put) return;
    this.#file = undefined;
    await put.sink.suspend();
  }

  // -- answers ----------------------------------------------------------------------------------------------------

  async #approve(request: ApprovalRequest): Promise<void> {
    const approval = this.#ctx.approval;
    if (!approval) return;
    // A client that negotiated notices hears that its put waits for the operator, and for how long at most
    // (docs/PROTOCOL.md §4, "Notices"): it shows it and waits that long instead of timing out and asking again.
    if (this.#capabilities.has(PENDING_NOTICE_CAPABILITY)) {
      this.#conn.send({
        type: 'notice',
        id: request.id,
        code: NOTICE_PENDING_APPROVAL,
        timeoutMs: approval.longestWaitMs,
      });
    }
    const outcome = await approval.ask(request, this.#conn.signal);
    this.#ctx.log.info({ sender: this.sender, id: request.id, outcome }, 'operator decision');
    if (outcome === 'timeout') {
      throw new RejectedError(`no answer from the operator within ${this.#ctx.options.limits.approvalTimeoutMs} ms`);
    }
    if (outcome === 'rejected') throw new RejectedError();
  }

  #sendDuplicate(first: StoredItem): void {
    this.#ctx.log.info({ sender: this.sender, id: first.id }, 'duplicate put: answering the first receipt');
    this.#conn.send(toReceipt(first, true));
  }

  /** Answers a failed put with an error carrying its id; the session goes on unless the error is fatal. */
  #putError(err: unknown, id: string): void {
    if ((err as { code?: unknown } | null)?.code === 'ERR_STORAGE_IN_DOUBT') {
      // The store could not make sure the failed put left nothing behind: no answer would be true. The client
      // sees the connection close and retries with the same id: it gets the first receipt, or stores it anew.
      this.#ctx.log.error(
        { err, sender: this.sender, id },
        'put failed and may or may not be stored; closing without an answer',
      );
      this.#conn.cut('storage in doubt');
      return;
    }
    const coded = toProtocolError(err, this.#ctx.log, this.sender);
    if (coded.code === 'ERR_INTERNAL' || coded.code === 'ERR_STORAGE') {
      this.#ctx.log.error({ err, sender: this.sender, id }, 'put failed');
    } else {
      this.#ctx.log.info({ sender: this.sender, id, code: coded.code }, 'put refused');
    }
    this.#conn.send(errorEnvelope(coded, { id, fatal: false }));
  }

  // -- the end ----------------------------------------------------------------------------------------------------

  #onClose(reason: string | undefined): void {
    if (this.#welcomed) this.#ctx.output.disconnected(this.sender, this.stats, reason);
    this.#ctx.log.info({ sender: this.sender, ...this.stats, reason }, 'disconnected');
  }

  /** Gives back what a put in progress holds: a dictionary's blocks, a file's sink (suspended: it was cut). */
  async #release(): Promise<void> {
    this.#dict?.release();
    this.#dict = undefined;
    await this.#suspendFile();
  }
}
