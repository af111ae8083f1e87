/**
 * The scripted server of client mode: it listens on 127.0.0.1, port 0, and plays a script on each connection a
 * client makes, reading the client's frames (docs/PROTOCOL.md §2) and writing exactly the bytes the script says.
 * Everything that crosses the connection is logged in order, for ./frame-checker.ts to hold against the spec.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder, FrameKind, encodeControlFrame, parseClientMessage } from '@proj/protocol/wire';
import type { ClientMessage, Frame } from '@proj/protocol/wire';

/** A frame from the client: a control frame (its envelope, or why it is not one) or a data frame. */
export type InFrame =
  | { kind: 1; bytes: Buffer; message?: ClientMessage; error?: string }
  | { kind: 2; payload: Buffer };

/** The connection's history: what the client sent and what the script sent, in the order it happened. */
export type LogEntry =
  | { dir: 'in'; frame: InFrame }
  | { dir: 'out'; message: Record<string, unknown> }
  | { dir: 'in-error'; error: string };

/** Frames larger than this are not even read: the checker reports the bad header. */
const MAX_CLIENT_FRAME = 64 * 1024 * 1024;

export class ScriptedConnection {
  readonly index: number;
  readonly log: LogEntry[] = [];
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: MAX_CLIENT_FRAME });
  readonly #queue: (InFrame | undefined)[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;

  constructor(socket: Socket, index: number) {
    this.index = index;
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('close', () => this.#onEnd());
    socket.on('error', () => undefined);
  }

  /** The client's next frame, or undefined once it closed or `timeoutMs` passed. */
  async next(timeoutMs: number): Promise<InFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
    const item = this.#queue.shift();
    if (item === undefined) this.#queue.unshift(undefined);
    return item;
  }

  /** Sends an envelope as one control frame. */
  send(message: Record<string, unknown>): Promise<void> {
    this.log.push({ dir: 'out', message });
    return this.#write(encodeControlFrame(message));
  }

  /** Sends an envelope's frame cut into `pieces` (byte counts; the rest follows), each its own write. */
  async sendInPieces(message: Record<string, unknown>, pieces: readonly number[], gapMs = 3): Promise<void> {
    this.log.push({ dir: 'out', message });
    const bytes = encodeControlFrame(message);
    let at = 0;
    for (const size of [...pieces, bytes.length]) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + size));
      at += piece.length;
      if (piece.length === 0) continue;
      await this.#write(piece);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }

  /** Closes the connection: both sides, at once. */
  close(): void {
    this.#socket.destroy();
  }

  /** Ends the server's side after what was written (the client sees the end of the stream). */
  end(): void {
    this.#socket.end();
  }

  #write(bytes: Buffer): Promise<void> {
    if (this.#socket.destroyed || !this.#socket.writable) return Promise.resolve();
    return new Promise((resolve) => this.#socket.write(bytes, () => resolve()));
  }

  #push(item: InFrame | undefined): void {
    this.#queue.push(item);
    this.#waiter?.();
  }

  #onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.log.push({ dir: 'in-error', error: `a bad frame header (§2): ${(err as Error).message}` });
      this.#socket.destroy();
      return;
    }
    for (const f of frames) {
      let frame: InFrame;
      if (f.kind === FrameKind.Data) {
        frame = { kind: 2, payload: Buffer.from(f.payload) };
      } else {
        const bytes = Buffer.from(f.payload);
        try {
          frame = { kind: 1, bytes, message: parseClientMessage(bytes) };
        } catch (err) {
          frame = { kind: 1, bytes, error: (err as Error).message };
        }
      }
      this.log.push({ dir: 'in', frame });
      this.#push(frame);
    }
  }

  #onEnd(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#decoder.buffered > 0) {
      this.log.push({ dir: 'in-error', error: `the client closed inside a frame (${this.#decoder.buffered} bytes)` });
    }
    this.#push(undefined);
  }
}

export type Script = (conn: ScriptedConnection) => Promise<void>;

export class ScriptedServer {
  readonly connections: ScriptedConnection[] = [];
  /** Errors thrown by the script itself (a bug of the kit, not of the client). */
  readonly scriptErrors: string[] = [];
  readonly #server: Server;
  readonly #running: Promise<void>[] = [];

  private constructor(server: Server, script: Script) {
    this.#server = server;
    server.on('connection', (socket) => {
      const conn = new ScriptedConnection(socket, this.connections.length);
      this.connections.push(conn);
      this.#running.push(
        script(conn)
          .catch((err: unknown) => {
            this.scriptErrors.push((err as Error).stack ?? String(err));
          })
          .finally(() => conn.end()),
      );
    });
  }

  static start(script: Script): Promise<ScriptedServer> {
    const server = createServer();
    const scripted = new ScriptedServer(server, script);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(scripted));
    });
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Stops listening, closes every connection, and waits for the scripts to end. */
  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const conn of this.connections) conn.close();
    await Promise.all([stopped, ...this.#running]);
  }
}
