/**
 * Writes frames (docs/PROTOCOL.md §2) to a stream socket with backpressure: header and payload go out under one
 * cork, and callers wait for `drain()` whenever a write reports a full buffer (the ws `sendFrame` pattern).
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { ConnectionClosedError } from '../errors';
import { FrameKind } from './frame';
import { encodeControlFrame, encodeFrame } from './frame-encoder';

export class FrameWriter {
  constructor(
    private readonly socket: Duplex,
    /** The peer's frame limit; larger payloads are refused before they are written. */
    public maxFrameBytes: number,
  ) {}

  /** Writes one control envelope. Returns false when the socket buffer is full (call `drain()`). */
  control(message: object): boolean {
    return this.socket.write(encodeControlFrame(message, this.maxFrameBytes));
  }

  /**
   * Writes one data frame without copying `payload`. Returns false when the socket buffer is full.
   * `written` is called once the socket no longer needs `payload` (handed to the kernel, or the write failed):
   * only then may its memory be reused.
   */
  data(payload: Uint8Array, written?: () => void): boolean {
    const [header, body] = encodeFrame(FrameKind.Data, payload, this.maxFrameBytes);
    this.socket.cork();
    this.socket.write(header);
    const ok = written ? this.socket.write(body, () => written()) : this.socket.write(body);
    this.socket.uncork();
    return ok;
  }

  /** Resolves once the socket has room again; rejects if it closes first. */
  async drain(): Promise<void> {
    if (!this.socket.writableNeedDrain) return;
    if (this.socket.destroyed) throw new ConnectionClosedError('connection closed while writing');
    const ac = new AbortController();
    try {
      await Promise.race([
        once(this.socket, 'drain', { signal: ac.signal }),
        once(this.socket, 'close', { signal: ac.signal }).then(() => {
          throw new ConnectionClosedError('connection closed while writing');
        }),
      ]);
    } catch (err) {
      // `once` rejects with the socket's own error (ECONNRESET, EPIPE): to a caller it is a closed connection.
      if (err instanceof ConnectionClosedError) throw err;
      throw new ConnectionClosedError(`connection error while writing: ${(err as Error).message}`, { cause: err });
    } finally {
      ac.abort();
    }
  }
}
