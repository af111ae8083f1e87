/**
 * A pure streaming frame decoder (docs/PROTOCOL.md §2): bytes in, frames out. It owns no socket, knows no
 * schema, and never buffers a payload before checking its declared length against the limit.
 */
import { FrameKindError, FrameTooLargeError, FrameTruncatedError, ProtocolError } from './errors';
import { FRAME_HEADER_BYTES, FrameKind, isFrameKind, type Frame } from './frame';

export interface FrameDecoderOptions {
  /** Largest payload accepted, in bytes. A larger declared length fails with ERR_FRAME_TOO_LARGE at once. */
  maxFrameBytes: number;
  /**
   * Return a data frame's payload in pieces as its bytes arrive (`more` set on all but the last piece), each a
   * slice of an input chunk, instead of gathering the whole payload into one new buffer. For a receiver that
   * consumes data as a stream (a file put): a large frame then costs no allocation and no copy. Default false.
   */
  dataPieces?: boolean;
}

const State = {
  Header: 0,
  Payload: 1,
  Failed: 2,
} as const;
type State = (typeof State)[keyof typeof State];

export class FrameDecoder {
  #maxFrameBytes: number;
  #dataPieces: boolean;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #state: State = State.Header;
  #kind: FrameKind = 0x01;
  #length = 0;
  #error: ProtocolError | undefined;

  constructor(options: FrameDecoderOptions) {
    if (!Number.isSafeInteger(options.maxFrameBytes) || options.maxFrameBytes < 0) {
      throw new RangeError(`maxFrameBytes must be a non-negative integer, got ${options.maxFrameBytes}`);
    }
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#dataPieces = options.dataPieces ?? false;
  }

  /** Bytes received and not yet returned as part of a frame. */
  get buffered(): number {
    return this.#state === State.Payload ? this.#buffered + FRAME_HEADER_BYTES : this.#buffered;
  }

  /** The limit in force. It may be changed between pushes, for example once a welcome announces it. */
  get maxFrameBytes(): number {
    return this.#maxFrameBytes;
  }

  set maxFrameBytes(value: number) {
    this.#maxFrameBytes = value;
  }

  /**
   * Feeds bytes and returns every frame they complete, in order. Throws a ProtocolError on a bad header;
   * after that the decoder is failed and every later call throws the same error.
   */
  push(chunk: Uint8Array): Frame[] {
    if (this.#error) throw this.#error;
    if (chunk.length > 0) {
      this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.#buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.#state === State.Header) {
        if (this.#buffered < FRAME_HEADER_BYTES) break;
        const header = this.#consume(FRAME_HEADER_BYTES);
        const length = header.readUInt32BE(0);
        const kind = header[4] as number;
        if (!isFrameKind(kind)) return this.#fail(new FrameKindError(kind));
        if (length > this.#maxFrameBytes) return this.#fail(new FrameTooLargeError(length, this.#maxFrameBytes));
        this.#kind = kind;
        this.#length = length;
        this.#state = State.Payload;
      }
      if (this.#dataPieces && this.#kind === FrameKind.Data && this.#length > 0) {
        if (!this.#takePieces(frames)) break;
        this.#state = State.Header;
        continue;
      }
      if (this.#buffered < this.#length) break;
      frames.push({ kind: this.#kind, payload: this.#consume(this.#length) });
      this.#state = State.Header;
    }
    return frames;
  }

  /**
   * Moves the buffered bytes of the current data frame's payload to `frames`, one piece per chunk, without
   * copying. Returns true once the payload is complete.
   */
  #takePieces(frames: Frame[]): boolean {
    while (this.#buffered > 0 && this.#length > 0) {
      const first = this.#chunks[0] as Buffer;
      const take = Math.min(first.length, this.#length);
      this.#length -= take;
      frames.push(this.#length > 0 ? { kind: FrameKind.Data, payload: this.#consume(take), more: true } : { kind: FrameKind.Data, payload: this.#consume(take) });
    }
    return this.#length === 0;
  }

  /** Declares the end of the stream. Throws ERR_FRAME_TRUNCATED when it ends inside a frame. */
  end(): void {
    if (this.#error) throw this.#error;
    if (this.buffered > 0) this.#fail(new FrameTruncatedError(this.buffered));
  }

  #fail(error: ProtocolError): never {
    this.#state = State.Failed;
    this.#error = error;
    this.#chunks = [];
    this.#buffered = 0;
    throw error;
  }

  /** Takes `n` buffered bytes from the front. Slices without copying when they lie in one chunk. */
  #consume(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length === n) {
      this.#chunks.shift();
      return first;
    }
    if (first !== undefined && first.length > n) {
      this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.#chunks[0] as Buffer;
      const take = Math.min(chunk.length, n - offset);
      chunk.copy(out, offset, 0, take);
      offset += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    return out;
  }
}
