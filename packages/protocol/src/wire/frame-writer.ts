/**
 * Writes frames (docs/PROTOCOL.md §2) to a stream socket with backpressure: header and payload go out under one
 * cork, and callers wait for `drain()` whenever a write reports a full buffer (the ws `sendFrame` pattern).
 */
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

  /** Runs `write`, whose frames leave in one write to the socket (one system call, one segment on the wire). */
  together<T>(write: () => T): T {
    this.socket.cork();
    try {
      return write();
    } finally {
      this.socket.uncork();
    }
  }

  /**
   * Resolves once the socket has room again; rejects if it closes or fails first. Plain listeners, not `once()`
   * with an AbortSignal: a file put waits here after most frames (the socket's buffer holds 16 KiB), and each
   * abort built an AbortError with its stack, which cost a sending client ~1 CPU-s per GiB (a profile of
   * `send-file --encrypt`, 1 GiB).
   */
  drain(): Promise<void> {
    const socket = this.socket;
    if (!socket.writableNeedDrain) return Promise.resolve();
    if (socket.destroyed) return Promise.reject(new ConnectionClosedError('connection closed while writing'));
    return new Promise((resolve, reject) => {
      const settle = (err?: Error): void => {
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        socket.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => settle();
      const onClose = (): void => settle(new ConnectionClosedError('connection closed while writing'));
      // The socket's own error (ECONNRESET, EPIPE): to a caller it is a closed connection.
      const onError = (err: Error): void =>
        settle(new ConnectionClosedError(`connection error while writing: ${err.message}`, { cause: err }));
      socket.on('drain', onDrain);
      socket.on('close', onClose);
      socket.on('error', onError);
    });
  }
}
