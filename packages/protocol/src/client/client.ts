/**
 * The typed client (docs/PROTOCOL.md §4): connect, handshake, send dictionaries and files, close. The connection
 * under it (socket, frames, answers, keep-alive) is ./connection.ts.
 *
 * One put runs at a time per connection; calls made while one is running wait their turn. Every receipt is
 * checked against what was sent (byte count and SHA-256) before the promise resolves.
 */
import { createHash, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type * as tls from 'node:tls';
import { encodeDict, type Dict, type DictFormat } from '../dict/index';
import { BadMessageError, IdInvalidError, ReceiptMismatchError, UnexpectedMessageError, VersionError } from '../errors';
import { DEFAULT_CHUNK_BYTES, DEFAULT_PORT, PROTOCOL_VERSION, SUPPORTED_VERSIONS } from '../limits';
import { isCapabilityName, MAX_CAPABILITIES, negotiate } from '../wire/capabilities';
import {
  putIdSchema,
  type Encryption,
  type Notice,
  type Receipt,
  type ServerMessage,
  type Welcome,
} from '../wire/envelopes';
import { PENDING_NOTICE_CAPABILITY } from '../wire/notices';
import { Connection, openSocket, remoteError } from './connection';
import { FileChunks } from './file-chunks';

export interface ConnectOptions {
  /** Server host; default `127.0.0.1`. */
  host?: string;
  /** Server port; default 5050. */
  port?: number;
  /** Shared token, when the server requires one. Read it from a file or a prompt, never from argv. */
  token?: string;
  /** Connect with TLS. `true` uses system CAs; an object passes options to `tls.connect` (e.g. `ca`). */
  tls?: boolean | tls.ConnectionOptions;
  /** Milliseconds to wait for the connection, the handshake, and each answer; default 30000. */
  timeoutMs?: number;
  /** Client software name for the server's log. */
  agent?: string;
  /** Send a ping when the connection has been quiet for a third of the server's idle timeout; default true. */
  keepAlive?: boolean;
  /**
   * Capabilities to ask the server for (docs/PROTOCOL.md §4, "Capabilities"); default none, and version 1 defines
   * none. Those the server also supports are the connection's `capabilities`. Listing any makes the hello a
   * negotiating one: the welcome then lists the server's capabilities, and fields this version does not define in
   * the server's messages are ignored instead of refused. The library itself implements no capability: list only
   * those your program implements on top of it. Names must match the capability grammar (else ERR_BAD_MESSAGE).
   */
  capabilities?: readonly string[];
  /**
   * Called with each `notice` the server sends (docs/PROTOCOL.md §4, "Notices"), on a connection that negotiated
   * `pending-notice` (list it in `capabilities`). Whether or not it is given, a PENDING_APPROVAL notice extends the
   * wait for that put's answer by its `timeoutMs`.
   */
  onNotice?: (notice: Notice) => void;
}

export interface SendDictOptions {
  /** Wire format; default `json`. */
  format?: DictFormat;
  /** Put id; a retry must reuse it. Default: a new UUID. */
  id?: string;
}

export interface Progress {
  /** Bytes sent so far. */
  sent: number;
  /** Total bytes, when known. */
  total?: number;
}

export interface SendFileOptions {
  /** Put id; a retry must reuse it. Default: a new UUID. */
  id?: string;
  /** Name to give the server; default the path's base name. Only a hint: the server chooses the stored path. */
  name?: string;
  /** What the bytes are. The server checks the bytes themselves and records both. Default `none`. */
  encryption?: Encryption;
  /** Called after each chunk is handed to the socket. */
  onProgress?: (progress: Progress) => void;
  /** Chunk size; default 256 KiB, capped by the server's frame limit. */
  chunkBytes?: number;
}

export interface SendStreamOptions extends Omit<SendFileOptions, 'name'> {
  /** Name to give the server. */
  name: string;
  /** Exact size, when known: the server refuses an oversize stream before any byte moves. */
  size?: number;
  /**
   * For a source that gives different bytes each time (a fresh encryption): what earlier attempts under this id
   * sent in full (see `onSent`). If the server answers that it holds the id already, a receipt matching one of
   * them is accepted as it is; otherwise the source is hashed and compared, as always.
   */
  earlierAttempts?: readonly SentDigest[];
  /** Called once every byte is sent and `file_end` is on its way, with their count and SHA-256. */
  onSent?: (digest: SentDigest) => void;
}

/** Count and SHA-256 of the bytes one attempt sent. */
export interface SentDigest {
  bytes: number;
  sha256: string;
}

/** Bytes to send as a file: a readable stream, or any (async) iterable of byte chunks. */
export type ByteSource = Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Opens a connection and completes the handshake.
 * Throws ERR_CONNECT when nobody listens, or the server's coded refusal (for example ERR_AUTH, ERR_VERSION).
 */
export async function connect(options: ConnectOptions = {}): Promise<Client> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PORT;
  const timeoutMs = options.timeoutMs ?? 30_000;
  checkCapabilities(options.capabilities ?? []);
  const socket = await openSocket(host, port, options.tls, timeoutMs);
  const client = new Client(new Connection(socket, timeoutMs), `${host}:${port}`);
  try {
    await client._handshake(options);
  } catch (err) {
    client.destroy();
    throw err;
  }
  if (options.keepAlive !== false) client._startKeepAlive();
  return client;
}

export class Client {
  #connection: Connection;
  #queue: Promise<unknown> = Promise.resolve();
  #welcome: Welcome | undefined;
  #capabilities: readonly string[] = [];
  /** `host:port` this client connected to. */
  readonly address: string;

  /** @internal Use `connect()`. */
  constructor(connection: Connection, address: string) {
    this.#connection = connection;
    this.address = address;
  }

  /** The server's welcome: its limits, formats, and age recipient. */
  get welcome(): Welcome {
    if (!this.#welcome) throw new UnexpectedMessageError('use before handshake', 'connect()');
    return this.#welcome;
  }

  /**
   * The capabilities this connection uses: those asked for in `ConnectOptions.capabilities` that the server's
   * welcome lists too, in the order asked. Empty against a server that lists none or predates negotiation.
   */
  get capabilities(): readonly string[] {
    return this.#capabilities;
  }

  /** True when this connection uses capability `name` (both sides support it). */
  has(name: string): boolean {
    return this.#capabilities.includes(name);
  }

  /** The server's age recipient (`age1…`), when it has one. */
  get recipient(): string | undefined {
    return this.#welcome?.encryption.recipient;
  }

  /** True once the connection is closed or failed. */
  get closed(): boolean {
    return this.#connection.closedWith !== undefined;
  }

  /** @internal */
  async _handshake(options: ConnectOptions): Promise<void> {
    const asked = [...new Set(options.capabilities ?? [])];
    // A negotiating hello: the server may send it fields this version does not define (docs/PROTOCOL.md §4).
    this.#connection.ignoreUnknownFields = asked.length > 0;
    this.#connection.send({
      type: 'hello',
      version: PROTOCOL_VERSION,
      capabilities: asked,
      ...(options.agent ? { agent: options.agent } : {}),
      ...(options.token ? { token: options.token } : {}),
    });
    const reply = await this.#connection.next();
    if (reply.type !== 'welcome') throw new UnexpectedMessageError(reply.type, 'welcome');
    if (reply.version !== PROTOCOL_VERSION) throw new VersionError(reply.version, SUPPORTED_VERSIONS);
    this.#welcome = reply;
    this.#capabilities = negotiate(asked, reply.capabilities ?? []);
    this.#connection.noticesAllowed = this.#capabilities.includes(PENDING_NOTICE_CAPABILITY);
    this.#connection.onNotice = options.onNotice;
    this.#connection.maxFrameBytes = reply.limits.maxFrameBytes;
  }

  /** @internal */
  _startKeepAlive(): void {
    this.#connection.startKeepAlive(this.#welcome?.limits.idleTimeoutMs ?? 0);
  }

  /** Encodes `dict` in `format`, sends it, and resolves with the checked receipt. */
  async sendDict(dict: Dict, options: SendDictOptions = {}): Promise<Receipt> {
    const format = options.format ?? 'json';
    const bytes = encodeDict(dict, format, {
      maxDictDepth: this.welcome.limits.maxDictDepth,
      maxDictBytes: this.welcome.limits.maxDictBytes,
    });
    return this.sendDictBytes(bytes, format, options.id);
  }

  /** Sends an already encoded dictionary. The server decodes and validates it. */
  async sendDictBytes(bytes: Uint8Array, format: DictFormat, id: string = randomUUID()): Promise<Receipt> {
    checkId(id);
    return this.#serial(async () => {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      this.#connection.send({ type: 'put_dict', id, format, bytes: bytes.length });
      const max = this.#connection.maxFrameBytes;
      for (let offset = 0; offset < bytes.length; offset += max) {
        this.#connection.data(bytes.subarray(offset, offset + max));
      }
      await this.#connection.drain();
      const reply = await this.#connection.next(id);
      return checkReceipt(reply, id, bytes.length, sha256);
    });
  }

  /** Streams the file at `path` and resolves with the checked receipt. */
  async sendFile(path: string, options: SendFileOptions = {}): Promise<Receipt> {
    const { size } = await stat(path);
    const chunkBytes = this.#chunkBytes(options.chunkBytes);
    return this.sendStream(() => new FileChunks(path, chunkBytes), {
      ...options,
      name: options.name ?? basename(path),
      size,
    });
  }

  /**
   * Streams bytes from `source` (a stream, an async iterable, or a function returning one) and resolves with
   * the checked receipt. If the server already holds this put id, it answers with the first receipt and no
   * byte is sent.
   */
  async sendStream(source: ByteSource | (() => ByteSource), options: SendStreamOptions): Promise<Receipt> {
    const id = options.id ?? randomUUID();
    checkId(id);
    return this.#serial(async () => {
      this.#connection.send({
        type: 'put_file',
        id,
        name: options.name,
        offset: 0,
        encryption: options.encryption ?? 'none',
        ...(options.size !== undefined ? { size: options.size } : {}),
      });
      const answer = await this.#connection.next(id);
      if (answer.type === 'receipt' && answer.duplicate) {
        // The server held this id already and sent nothing back but the first receipt: check that it is what
        // we meant: something an earlier attempt sent in full, or else the source, hashed instead of sent.
        const earlier = options.earlierAttempts?.find((d) => d.bytes === answer.bytes && d.sha256 === answer.sha256);
        if (earlier) {
          if (typeof source !== 'function') discardSource(source);
          return checkReceipt(answer, id, earlier.bytes, earlier.sha256);
        }
        const { bytes, sha256 } = await hashSource(typeof source === 'function' ? source() : source);
        return checkReceipt(answer, id, bytes, sha256);
      }
      if (answer.type !== 'ready') {
        if (typeof source !== 'function') discardSource(source);
        if (answer.type === 'error') throw remoteError(answer);
        throw new UnexpectedMessageError(answer.type, 'ready');
      }
      if (answer.offset !== 0) throw new UnexpectedMessageError(`ready at offset ${answer.offset}`, 'ready at 0');

      const iterable = typeof source === 'function' ? source() : source;
      const hash = createHash('sha256');
      const chunkBytes = this.#chunkBytes(options.chunkBytes);
      let sent = 0;
      try {
        for await (const chunk of iterable) {
          for (let offset = 0; offset < chunk.length; offset += chunkBytes) {
            const piece = chunk.subarray(offset, offset + chunkBytes);
            this.#connection.throwIfAnswered(id);
            hash.update(piece);
            sent += piece.length;
            // A file's buffers are read into again once the socket has written the chunk's last piece.
            const written =
              iterable instanceof FileChunks && offset + chunkBytes >= chunk.length
                ? () => iterable.recycle(chunk)
                : undefined;
            if (!this.#connection.data(piece, written)) await this.#connection.drain();
            options.onProgress?.({ sent, ...(options.size !== undefined ? { total: options.size } : {}) });
          }
        }
      } catch (err) {
        discardSource(iterable);
        if (!this.#connection.closedWith) {
          // Whatever the server still says about this put (an early error in flight) is now stale.
          this.#connection.abandon(id);
          this.#connection.send({ type: 'cancel', id });
        }
        throw err;
      }
      const sha256 = hash.digest('hex');
      this.#connection.send({ type: 'file_end', id, bytes: sent, sha256 });
      options.onSent?.({ bytes: sent, sha256 });
      const reply = await this.#connection.next(id);
      return checkReceipt(reply, id, sent, sha256);
    });
  }

  /** Round trip to the server; resolves when its pong arrives. */
  ping(): Promise<void> {
    return this.#serial(async () => {
      this.#connection.send({ type: 'ping', nonce: 'p' });
      const reply = await this.#connection.next();
      if (reply.type !== 'pong') throw new UnexpectedMessageError(reply.type, 'pong');
    });
  }

  /** Says goodbye, waits for the server's, and closes. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#connection.closedWith) return;
    await this.#serial(async () => {
      this.#connection.send({ type: 'bye' });
      try {
        await this.#connection.next();
      } catch {
        // The server may close without a bye of its own; either way we are done.
      }
    }).catch(() => undefined);
    this.destroy();
  }

  /** Closes the socket at once, failing any put in progress with ERR_CONNECTION_CLOSED. */
  destroy(): void {
    this.#connection.destroy();
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      const closed = this.#connection.closedWith;
      if (closed) throw closed;
      return task();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #chunkBytes(requested?: number): number {
    const max = this.#welcome?.limits.maxFrameBytes ?? DEFAULT_CHUNK_BYTES;
    return Math.max(1, Math.min(requested ?? DEFAULT_CHUNK_BYTES, max));
  }
}

async function hashSource(source: ByteSource): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Releases a stream we will not read to its end (a file stream holds a descriptor until destroyed). */
function discardSource(source: ByteSource): void {
  const maybe = source as Partial<Readable>;
  if (typeof maybe.destroy === 'function') maybe.destroy();
}

/** Refuses, before connecting, a capability list the hello could not carry. */
function checkCapabilities(names: readonly string[]): void {
  const bad = names.find((name) => !isCapabilityName(name));
  if (bad !== undefined) {
    throw new BadMessageError(`capability ${JSON.stringify(bad.slice(0, 70))} is not a capability name`);
  }
  if (names.length > MAX_CAPABILITIES) {
    throw new BadMessageError(`${names.length} capabilities; a hello lists at most ${MAX_CAPABILITIES}`);
  }
}

function checkId(id: string): void {
  if (!putIdSchema.safeParse(id).success) throw new IdInvalidError(id);
}

function checkReceipt(reply: ServerMessage, id: string, bytes: number, sha256: string): Receipt {
  if (reply.type === 'error') throw remoteError(reply);
  if (reply.type !== 'receipt') throw new UnexpectedMessageError(reply.type, 'receipt');
  if (reply.id !== id) throw new ReceiptMismatchError(`receipt for ${reply.id}, expected ${id}`);
  if (reply.bytes !== bytes || reply.sha256 !== sha256) {
    throw new ReceiptMismatchError(
      `server stored ${reply.bytes} bytes with sha256 ${reply.sha256}; sent ${bytes} bytes with sha256 ${sha256}` +
        (reply.duplicate ? ' (the server already held different content under this id)' : ''),
    );
  }
  return reply;
}
