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

/** A client that writes raw frames and reads the server's messages, for input the client library refuses to send. */
export class RawClient {
  readonly socket: net.Socket;
  #decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 });
  #inbox: ServerMessage[] = [];
  #waiters: Array<(m: ServerMessage | undefined) => void> = [];
  #ended = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#decoder.push(chunk)) {
        const msg = parseServerMessage(frame.payload);
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
  static async connect(port: number, localAddress?: string): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  /** Connects and completes the handshake. */
  static async welcomed(port: number, hello: Record<string, unknown> = {}, localAddress?: string): Promise<RawClient> {
    const c = await RawClient.connect(port, localAddress);
    c.control({ type: 'hello', version: 1, ...hello });
    const w = await c.next();
    if (w?.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(w)}`);
    return c;
  }

  control(message: object): void {
    this.socket.write(encodeControlFrame(message));
  }

  data(bytes: Uint8Array): void {
    const [h, b] = encodeFrame(FrameKind.Data, bytes);
    this.socket.write(Buffer.concat([h, b]));
  }

  raw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next message, or undefined when the connection closed first. */
  next(timeoutMs = 10_000): Promise<ServerMessage | undefined> {
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
