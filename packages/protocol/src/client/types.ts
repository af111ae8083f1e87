/**
 * The client's public types (docs/CLIENT.md, "The library"): what `connect()` takes and the `Client` it gives
 * back. Only these types and `connect` are the client's API; the classes behind them are not exported.
 */
import type { Readable } from 'node:stream';
import type * as tls from 'node:tls';
import type { DictFormat } from '../dict/index';
import type { Encryption, Notice, Receipt, Welcome } from '../wire/envelopes';

/** How a lost connection is retried: a put cut by it is sent again (or resumed) on a new one, under its id. */
export interface RetryOptions {
  /** Further attempts after the first failure of the connection; default 5. 0 turns retrying off. */
  retries?: number;
  /** Pause before the first retry in ms; it doubles each time, with jitter. Default 250. */
  baseDelayMs?: number;
  /** Longest pause in ms; default 8000. */
  maxDelayMs?: number;
}

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
   * Reconnect and send again after the connection fails (docs/CLIENT.md, "Retries"); default
   * `{ retries: 5, baseDelayMs: 250, maxDelayMs: 8000 }`. `false` is `{ retries: 0 }`. The first connection is
   * not retried: a wrong address or a server that is down is reported at once.
   */
  retry?: RetryOptions | false;
  /**
   * Resume a file put cut by a lost connection from what the server holds (capability `resume`, docs/PROTOCOL.md
   * §4); default true. The client asks for the capability; against a server without it, a retry sends from zero.
   */
  resume?: boolean;
  /**
   * More capabilities to ask the server for (docs/PROTOCOL.md §4, "Capabilities"), for programs that implement
   * them on top of the library; `resume` is asked for by the library itself. Names must match the capability
   * grammar (else ERR_BAD_MESSAGE).
   */
  capabilities?: readonly string[];
  /**
   * Called with each `notice` the server sends (docs/PROTOCOL.md §4, "Notices"), on a connection that negotiated
   * `pending-notice` (list it in `capabilities`). Whether or not it is given, a PENDING_APPROVAL notice extends the
   * wait for that put's answer by its `timeoutMs`.
   */
  onNotice?: (notice: Notice) => void;
  /** Aborts the connection attempt. */
  signal?: AbortSignal;
}

/** Options every send takes. */
export interface SendOptions {
  /** Put id; a retry reuses it, so a put is stored once. Default: a new UUID. */
  id?: string;
  /**
   * Gives up the call: the connection is closed at once (the client reconnects for the next call) and the call
   * rejects with `AbortedError` (ERR_ABORTED). What the server holds of a cut file put stays resumable.
   */
  signal?: AbortSignal;
}

export interface SendDictOptions extends SendOptions {
  /** Wire format; default `json`. */
  format?: DictFormat;
}

export interface Progress {
  /** Bytes sent so far, counting from the start of the file (a resumed put starts at its offset). */
  sent: number;
  /** Total bytes, when known. */
  total?: number;
}

/** How `sendFile` encrypts: to the server's recipient (`true`), to given recipients, or with a passphrase. */
export type EncryptOption =
  | true
  | { recipients: readonly string[] }
  | {
      passphrase: string;
      /** scrypt work factor (log2 N); default 18. Lower only in tests. */
      scryptWorkFactor?: number;
    };

/**
 * What makes an encrypted send repeatable (docs/CRYPTO.md): the age file's first bytes and its payload key.
 * As secret as the file itself. Keep them (mode 0600) only to resume a send from another process.
 */
export interface EncryptionKeys {
  prologue: Uint8Array;
  payloadKey: Uint8Array;
}

export interface SendFileOptions extends SendOptions {
  /** Name to give the server; default the path's base name (plus `.age` when encrypting). */
  name?: string;
  /**
   * Encrypt with age before sending (`encryption: "age"` on the wire). The ciphertext is the same on every
   * attempt of this call, so a cut send resumes like a plain one.
   */
  encrypt?: EncryptOption;
  /**
   * What the file's bytes already are, for a file encrypted beforehand (`age`): declared on the wire, and the
   * server checks it. Default `none`; `age` with `encrypt`.
   */
  encryption?: Encryption;
  /**
   * Keys of an earlier encrypted send of this file under this `id` (from `onEncryptionKeys`), to resume it from
   * another process. Used only when they match `encrypt`'s recipient or passphrase; otherwise new keys are made.
   */
  encryptionKeys?: EncryptionKeys;
  /** Called with the keys before the first byte is sent, for a caller that keeps them to resume later. */
  onEncryptionKeys?: (keys: EncryptionKeys) => void | Promise<void>;
  /**
   * Ask the server to continue what it holds of this id (default true when the connection negotiated `resume`).
   * `false` starts from zero and discards any partial.
   */
  resume?: boolean;
  /** Called after each chunk is handed to the socket. */
  onProgress?: (progress: Progress) => void;
  /** Chunk size; default 256 KiB, capped by the server's frame limit. */
  chunkBytes?: number;
}

export interface SendStreamOptions extends SendOptions {
  /** Name to give the server. */
  name: string;
  /** What the bytes are. The server checks the bytes themselves and records both. Default `none`. */
  encryption?: Encryption;
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
  onProgress?: (progress: Progress) => void;
  chunkBytes?: number;
}

/** Count and SHA-256 of the bytes one attempt sent. */
export interface SentDigest {
  bytes: number;
  sha256: string;
}

/**
 * Bytes to send as a file: a readable stream, or any (async) iterable of byte chunks. Given as a function that
 * returns a new one each call, it can be sent again after a lost connection; given as it is, it is sent once.
 */
export type ByteSource = Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * A dictionary as your program types it: any object whose fields are dictionary values, so an
 * `interface User { name: string; tags: string[] }` is accepted as it is (no index signature needed).
 */
export type DictLike<T> = { [K in keyof T]: DictValueLike<T[K]> };

/** `T`, unless it is an array: the root of a dictionary is an object. */
export type NotArray<T> = T extends readonly unknown[] ? never : T;

/** A dictionary value as your program types it: the JSON-like values, arrays of them, and `DictLike` objects. */
export type DictValueLike<T> = T extends string | number | boolean | null
  ? T
  : T extends readonly (infer E)[]
    ? readonly DictValueLike<E>[]
    : T extends (...args: never[]) => unknown
      ? never
      : T extends bigint | symbol | undefined
        ? never
        : T extends object
          ? DictLike<T>
          : never;

/** Told before each pause between attempts. */
export interface RetryEvent {
  /** 1 for the first retry. */
  attempt: number;
  retries: number;
  delayMs: number;
  /** Why the last attempt failed. */
  error: Error;
}

/** Told when the server holds part of a file put and the client continues from there. */
export interface ResumeEvent {
  id: string;
  /** Bytes the server held (and the client did not send again). */
  offset: number;
  /** Bytes of the whole file. */
  size: number;
}

/** Told when a partial did not match the client's bytes and the put starts again from zero. */
export interface RestartEvent {
  id: string;
  offset: number;
  reason: 'checksum' | 'size';
}

/** What the client tells, through `client.on(...)`. */
export interface ClientEvents {
  retry: RetryEvent;
  resume: ResumeEvent;
  restart: RestartEvent;
  /** A new connection replaced a lost one. */
  reconnect: { address: string };
  /** The client is closed for good; `error` when it gave up on a lost connection. */
  close: { error?: Error };
}

/** Why the client closed for good (the value of `client.closed`). */
export interface CloseReason {
  /** Absent after `close()`, `destroy()` or disposal; the last failure when it gave up reconnecting. */
  error?: Error;
}

/** One client: a connection to one server, reopened as needed, that sends dictionaries and files. */
export interface Client extends AsyncDisposable {
  /** `host:port` this client connects to. */
  readonly address: string;
  /** The server's welcome on the current (or last) connection: its limits, formats, and age recipient. */
  readonly welcome: Welcome;
  /** The capabilities the current connection uses (asked for, and listed by the server), in the order asked. */
  readonly capabilities: readonly string[];
  /** True when the current connection uses capability `name`. */
  has(name: string): boolean;
  /** The server's age recipient (`age1…`), when it has one. */
  readonly recipient: string | undefined;
  /** True while a connection is open (after a lost one, the next call opens a new one). */
  readonly connected: boolean;
  /** True once the client is closed for good. */
  readonly isClosed: boolean;
  /** Resolves once the client is closed for good (never rejects). */
  readonly closed: Promise<CloseReason>;

  /** Encodes `dict`, sends it, and resolves with the receipt, checked against what was sent. */
  sendDict<T extends DictLike<T>>(dict: NotArray<T>, options?: SendDictOptions): Promise<Receipt>;
  /** Sends an already encoded dictionary (`format` default `json`). The server decodes and validates it. */
  sendDictBytes(bytes: Uint8Array, options?: SendDictOptions): Promise<Receipt>;
  /** Sends the file at `path` (encrypted first with `encrypt`), resuming after a cut, and checks the receipt. */
  sendFile(path: string, options?: SendFileOptions): Promise<Receipt>;
  /**
   * Streams bytes from `source` and resolves with the checked receipt. If the server already holds this put id,
   * it answers with the first receipt and no byte is sent. Retried (from zero) only when `source` is a function.
   */
  sendStream(source: ByteSource | (() => ByteSource), options: SendStreamOptions): Promise<Receipt>;
  /** Round trip to the server. */
  ping(options?: { signal?: AbortSignal }): Promise<void>;
  /** Listens to `event`; returns a function that stops listening. */
  on<E extends keyof ClientEvents>(event: E, listener: (event: ClientEvents[E]) => void): () => void;
  /** Says goodbye, waits for the server's, and closes for good. Safe to call twice. */
  close(): Promise<void>;
  /** Closes the socket at once, failing a put in progress with ERR_CONNECTION_CLOSED; closed for good. */
  destroy(): void;
}
