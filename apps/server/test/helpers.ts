/** Test helpers: a server in this process with captured output, and a raw-frame client for hostile input. */
import { once } from 'node:events';
import * as net from 'node:net';
import { PassThrough } from 'node:stream';
import {
  encodeControlFrame,
  encodeFrame,
  FrameDecoder,
  FrameKind,
  parseServerMessage,
  type ServerMessage,
} from '@proj/protocol/wire';
import { startServerInTempDir } from '@proj/test-utils';
import { startServer, type RunningServer, type StartOptions } from '../src/index';

export interface TestServer {
  server: RunningServer;
  dataDir: string;
  /** Everything the server printed on its standard output. */
  stdout(): string;
  /** JSON log lines. */
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** A server on a free port with a fresh data directory (unless `options.dataDir` names one), logging at info. */
export async function startTestServer(options: Partial<StartOptions> = {}): Promise<TestServer> {
  const out = new PassThrough();
  let printed = '';
  out.on('data', (c: Buffer) => (printed += c.toString()));
  const logStream = new PassThrough();
  let logged = '';
  logStream.on('data', (c: Buffer) => (logged += c.toString()));
  const { server, dataDir, removeDir } = await startServerInTempDir(
    startServer,
    { logLevel: 'info', logDestination: logStream, stdout: out, graceMs: 2000, ...options },
    'server-test-',
  );
  return {
    server,
    dataDir,
    stdout: () => printed,
    logs: () =>
      logged
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async () => {
      await server.close();
      await removeDir();
    },
  };
}

export interface RawClientOptions {
  /** The capabilities the client asks for: its messages are parsed as such a client parses them. */
  capabilities?: readonly string[];
  /** How long `next()` waits by default (10 s). */
  answerMs?: number;
  /** The largest data frame `data()` writes by default (all of its bytes in one frame). */
  frameBytes?: number;
}

/**
 * A client that writes raw frames and reads the server's messages, for input the client library refuses to send.
 * Messages are parsed as a client that asked for `capabilities` parses them (a `ready` with an offset needs
 * `resume`: docs/PROTOCOL.md §4, "Resuming"); the payload bytes of the data frames it wrote are counted.
 */
export class RawClient {
  readonly socket: net.Socket;
  /** Payload bytes of the data frames this client wrote. */
  dataBytes = 0;
  #decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 });
  #inbox: ServerMessage[] = [];
  #waiters: Array<(m: ServerMessage | undefined) => void> = [];
  #ended = false;

  private constructor(
    socket: net.Socket,
    capabilities: readonly string[],
    /** How long `next()` waits by default. */
    private readonly answerMs: number,
    /** The largest data frame `data()` writes by default; undefined: all its bytes in one frame. */
    private readonly frameBytes: number | undefined,
  ) {
    this.socket = socket;
    const parse = capabilities.length > 0 ? { capabilities: new Set(capabilities) } : {};
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#decoder.push(chunk)) {
        const msg = parseServerMessage(frame.payload, parse);
        const w = this.#waiters.shift();
        if (w) w(msg);
        else this.#inbox.push(msg);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w(undefined);
    });
  }

  /** Connects from `localAddress` (any 127.x.y.z on Linux: tests of per-address limits) or 127.0.0.1. */
  static async connect(port: number, localAddress?: string, options: RawClientOptions = {}): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    await once(socket, 'connect');
    return new RawClient(socket, options.capabilities ?? [], options.answerMs ?? 10_000, options.frameBytes);
  }

  /** Connects and completes the handshake (its messages parsed as the capabilities in `hello` ask). */
  static async welcomed(
    port: number,
    hello: Record<string, unknown> = {},
    localAddress?: string,
    options: Omit<RawClientOptions, 'capabilities'> = {},
  ): Promise<RawClient> {
    const capabilities = Array.isArray(hello.capabilities) ? (hello.capabilities as string[]) : [];
    const c = await RawClient.connect(port, localAddress, { ...options, capabilities });
    c.control({ type: 'hello', version: 1, ...hello });
    const w = await c.next();
    if (w?.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(w)}`);
    return c;
  }

  control(message: object): void {
    this.socket.write(encodeControlFrame(message));
  }

  /** Sends `bytes` as one data frame, or as frames of at most `frame` bytes (the client's default, if any). */
  data(bytes: Uint8Array, frame = this.frameBytes): void {
    if (frame === undefined) this.#frame(bytes);
    else for (let at = 0; at < bytes.length; at += frame) this.#frame(bytes.subarray(at, at + frame));
  }

  #frame(payload: Uint8Array): void {
    const [h, b] = encodeFrame(FrameKind.Data, payload);
    this.socket.write(Buffer.concat([h, b]));
    this.dataBytes += b.length;
  }

  raw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves once everything written so far was handed to the kernel. */
  async flushed(): Promise<void> {
    if (this.socket.writableNeedDrain) await once(this.socket, 'drain');
    await new Promise<void>((r) => this.socket.write(Buffer.alloc(0), () => r()));
  }

  /** The next message, or undefined when the connection closed first. */
  next(timeoutMs = this.answerMs): Promise<ServerMessage | undefined> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message from the server in time')), timeoutMs);
      this.#waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  /** Resolves once the server closed the connection. */
  async closed(): Promise<void> {
    if (this.#ended) return;
    await once(this.socket, 'close');
  }

  /** Cuts the connection: the server sees the stream end (a FIN) with nothing more. */
  async cut(): Promise<void> {
    this.socket.destroy();
    await this.closed();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Expects an error envelope with `code` (and `fatal`) as the next message. */
export async function expectError(c: RawClient, code: string, fatal: boolean): Promise<void> {
  const m = await c.next();
  expect(m).toMatchObject({ type: 'error', code, fatal });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true (for effects that follow a close, such as temp-file cleanup). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** Bytes as the async iterable `sendStream` takes. */
export async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}
