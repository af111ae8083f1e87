/**
 * A connection to the server under test that speaks raw bytes: the cases write exactly the bytes they mean
 * (frames split anywhere, bad headers, half-closes), and read the server's answers as frames (docs/PROTOCOL.md
 * §2) whose envelopes must be valid server envelopes (§3). It uses @proj/protocol's frame decoder and envelope
 * schemas, never its client, so a bug in our client cannot hide one in a server.
 */
import { connect, type Socket } from 'node:net';
import {
  FrameDecoder,
  FrameKind,
  encodeControlFrame,
  encodeFrameHeader,
  parseServerMessage,
} from '@proj/protocol/wire';
import type { Frame, ServerMessage } from '@proj/protocol/wire';
import { Failure, show } from '../case';

/** What the server did next: sent an envelope, or closed the connection. */
export type Answer = { type: 'message'; message: ServerMessage; bytes: Buffer } | { type: 'end' };

/** Server frames are envelopes of a few KiB; more than this is a violation of its own. */
const MAX_SERVER_FRAME = 1024 * 1024;

export class RawConnection {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: MAX_SERVER_FRAME });
  readonly #queue: (Answer | Failure)[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  #ignoreUnknownFields = false;
  #capabilities: ReadonlySet<string> | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('close', () => this.#onEnd());
    // A reset or a write after the server closed: the close that follows says it.
    socket.on('error', () => undefined);
  }

  /** Connects, or fails with what went wrong. */
  static open(host: string, port: number, timeoutMs: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Failure(`could not connect to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Failure(`could not connect to ${host}:${port}: ${err.message}`));
      });
    });
  }

  /**
   * Reads the server's messages as a client whose hello listed at least one capability does: fields §3 does not
   * define are ignored, at any depth (§4, "Capabilities"). Call it before sending such a hello.
   */
  ignoreUnknownFields(): void {
    this.#ignoreUnknownFields = true;
  }

  /**
   * Reads the server's messages as a connection that negotiated `capabilities` does: the fields they add are read
   * (§4, "Resuming": `ready.sha256`). Call it once the welcome listed them.
   */
  negotiated(capabilities: ReadonlySet<string>): void {
    this.#capabilities = capabilities;
  }

  /** True once the server's side has ended (or the socket closed). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Writes bytes as they are; resolves once the socket took them (or at once when it is closed). */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#socket.destroyed || !this.#socket.writable) return Promise.resolve();
    return new Promise((resolve) => this.#socket.write(bytes, () => resolve()));
  }

  /** A control frame holding `message`, serialized as it is (fields in the order given). */
  send(message: object): Promise<void> {
    return this.write(encodeControlFrame(message));
  }

  /** A control frame whose payload is `json` exactly (for envelopes no serializer would write). */
  sendJson(json: string | Uint8Array): Promise<void> {
    const payload = typeof json === 'string' ? Buffer.from(json, 'utf8') : Buffer.from(json);
    return this.write(Buffer.concat([encodeFrameHeader(FrameKind.Control, payload.length), payload]));
  }

  /** A data frame holding `payload`. */
  sendData(payload: Uint8Array): Promise<void> {
    return this.write(Buffer.concat([encodeFrameHeader(FrameKind.Data, payload.length), payload]));
  }

  /**
   * Writes `pieces` one by one, waiting `gapMs` after each, so that the server's reads end where the pieces do
   * (TCP may still join them; it cannot split them further than the pieces are).
   */
  async writePieces(pieces: readonly Uint8Array[], gapMs = 3): Promise<void> {
    for (const piece of pieces) {
      if (piece.length === 0) continue;
      await this.write(piece);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }

  /** Shuts down the sending side (a half-close, as `nc -N` does); the answers can still be read. */
  endInput(): Promise<void> {
    return new Promise((resolve) => this.#socket.end(() => resolve()));
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** The server's next answer, or a Failure when none comes within `timeoutMs` or the server broke §2/§3. */
  async next(timeoutMs: number, waitingFor = 'an answer'): Promise<Answer> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Failure(`no answer within ${timeoutMs} ms (waiting for ${waitingFor})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#waiter = undefined;
          resolve();
        }, left);
        this.#waiter = () => {
          clearTimeout(timer);
          this.#waiter = undefined;
          resolve();
        };
      });
    }
    const item = this.#queue.shift() as Answer | Failure;
    if (item instanceof Failure) throw item;
    // The end stays at the head: every later read sees it too.
    if (item.type === 'end') this.#queue.unshift(item);
    return item;
  }

  /** Waits for the server to close the connection; a message before the close is a Failure. */
  async closed(timeoutMs: number, after = 'this'): Promise<void> {
    const answer = await this.next(timeoutMs, `the server to close the connection after ${after}`);
    if (answer.type === 'message') {
      throw new Failure(`expected the server to close the connection after ${after}, got ${show(answer.message)}`);
    }
  }

  #push(item: Answer | Failure): void {
    this.#queue.push(item);
    this.#waiter?.();
  }

  #onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.#push(new Failure(`the server sent a bad frame header (§2): ${(err as Error).message}`));
      this.#socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (frame.kind !== FrameKind.Control) {
        this.#push(new Failure('the server sent a data frame: only a client sends data frames (§2)'));
        continue;
      }
      const bytes = Buffer.from(frame.payload);
      try {
        const message = parseServerMessage(bytes, {
          ignoreUnknownFields: this.#ignoreUnknownFields,
          ...(this.#capabilities ? { capabilities: this.#capabilities } : {}),
        });
        this.#push({ type: 'message', message, bytes });
      } catch (err) {
        this.#push(new Failure(`the server sent an envelope §3 refuses: ${(err as Error).message}`));
      }
    }
  }

  #onEnd(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#decoder.buffered > 0) {
      this.#push(new Failure(`the server closed the connection inside a frame (${this.#decoder.buffered} bytes)`));
    }
    this.#push({ type: 'end' });
  }
}
