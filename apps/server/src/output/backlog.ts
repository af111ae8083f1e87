/**
 * Writing to a stream that may fall behind (a pipe whose reader is slow, or gone), without letting what waits for
 * it grow. A write to a pipe never blocks in Node: what the pipe does not take waits in memory, without limit.
 * The screen and the log are views, not queues: once the stream holds more than `maxBytes` unwritten, further
 * writes are refused (the caller counts what it skipped); once the stream drains (or a later write finds it
 * under the bound) the caller is told, so it can say what was skipped. Nothing here ever waits for the stream.
 */
import type { Writable } from 'node:stream';

export class Backlog {
  #skipping = false;
  #waitingForDrain = false;

  /**
   * @param stream where to write
   * @param maxBytes the most left unwritten in `stream` before writes are refused (one write more may pass)
   * @param onCaughtUp called when the stream takes writes again after some were refused, before anything else
   *   is written; whatever it writes through `offer` goes first
   */
  constructor(
    private readonly stream: Writable,
    private readonly maxBytes: number,
    private readonly onCaughtUp: () => void,
  ) {}

  /** True while writes are refused: the stream holds more than the bound (or is closed). */
  get behind(): boolean {
    const s = this.stream;
    return s.destroyed || s.writableEnded || s.writableLength > this.maxBytes;
  }

  /**
   * Writes `render()` unless the stream is behind; `render` is not called then (what is not shown is not built).
   * Returns whether it was written.
   */
  offer(render: () => string): boolean {
    if (this.behind) {
      this.#skip();
      return false;
    }
    this.#resume();
    this.stream.write(render());
    return true;
  }

  #skip(): void {
    this.#skipping = true;
    const s = this.stream;
    if (this.#waitingForDrain || s.destroyed || s.writableEnded) return;
    // 'drain' comes only after a write that returned false; a stream with a larger highWaterMark may never
    // send it, and then the next offer under the bound is when the skip is told.
    if (!s.writableNeedDrain) return;
    this.#waitingForDrain = true;
    s.once('drain', () => {
      this.#waitingForDrain = false;
      if (!s.destroyed && s.writableLength <= this.maxBytes) this.#resume();
    });
  }

  #resume(): void {
    if (!this.#skipping) return;
    this.#skipping = false;
    this.onCaughtUp();
  }
}
