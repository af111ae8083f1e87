/**
 * A pure streaming frame decoder (docs/PROTOCOL.md §2): bytes in, frames out. It owns no socket, knows no
 * schema, and never buffers a payload before checking its declared length against the limit.
 *
 * Two ways to use it. `push(chunk)` feeds bytes and returns every frame they complete. `feed(chunk)` then `next()`
 * decodes one frame at a time, on demand: a receiver that pauses while it handles a frame keeps the rest as raw
 * bytes (no frame objects pile up however small the frames are), and frames before a bad header are handled
 * exactly as if they had arrived alone, however the stream was split.
 *
 * Memory is bounded by the bytes a frame may legally hold, not by how they arrive: a payload that arrives in many
 * small chunks is gathered into one buffer of its declared length, instead of keeping every chunk.
 */
import { FrameKindError, FrameTooLargeError, FrameTruncatedError, type ProtocolError } from '../errors';
import { FRAME_HEADER_BYTES, FrameKind, isFrameKind, type Frame } from './frame';

export interface FrameDecoderOptions {
  /** Largest payload accepted, in bytes. A larger declared length fails with ERR_FRAME_TOO_LARGE at once. */
  maxFrameBytes: number;
  /**
   * Largest control frame payload accepted, when smaller than `maxFrameBytes` (a receiver that expects only short
   * envelopes need not hold a frame-sized buffer for one). Default: `maxFrameBytes`.
   */
  maxControlBytes?: number;
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

/** A payload still spread over more than this many chunks is gathered into one buffer of its length. */
const MAX_PENDING_CHUNKS = 4;

export class FrameDecoder {
  #maxFrameBytes: number;
  #maxControlBytes: number | undefined;
  #dataPieces: boolean;
  /** Bytes received and not yet decoded (nor gathered into #gather). */
  #chunks: Buffer[] = [];
  #buffered = 0;
  #state: State = State.Header;
  #kind: FrameKind = 0x01;
  /** Payload bytes of the current frame not yet returned (or, when gathering, its whole length). */
  #length = 0;
  /** The current frame's payload being gathered, and how much of it has arrived. */
  #gather: Buffer | undefined;
  #gathered = 0;
  #error: ProtocolError | undefined;

  constructor(options: FrameDecoderOptions) {
    checkLimit('maxFrameBytes', options.maxFrameBytes);
    if (options.maxControlBytes !== undefined) checkLimit('maxControlBytes', options.maxControlBytes);
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#maxControlBytes = options.maxControlBytes;
    this.#dataPieces = options.dataPieces ?? false;
  }

  /** Bytes received and not yet returned as part of a frame. */
  get buffered(): number {
    return this.#state === State.Payload ? this.#buffered + this.#gathered + FRAME_HEADER_BYTES : this.#buffered;
  }

  /** True while part of a frame (header or payload) has arrived and the rest has not been returned. */
  get inFrame(): boolean {
    return this.#state === State.Payload || (this.#state === State.Header && this.#buffered > 0);
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
    this.feed(chunk);
    const frames: Frame[] = [];
    for (let frame = this.next(); frame !== undefined; frame = this.next()) frames.push(frame);
    return frames;
  }

  /** Adds bytes without decoding them; `next()` decodes. Throws the error of a failed decoder. */
  feed(chunk: Uint8Array): void {
    if (this.#error) throw this.#error;
    if (chunk.length === 0) return;
    let bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.#gather !== undefined && this.#chunks.length === 0) {
      const take = Math.min(bytes.length, this.#length - this.#gathered);
      bytes.copy(this.#gather, this.#gathered, 0, take);
      this.#gathered += take;
      bytes = bytes.subarray(take);
      if (bytes.length === 0) return;
    }
    this.#chunks.push(bytes);
    this.#buffered += bytes.length;
  }

  /**
   * The next complete frame (or, with `dataPieces`, the next piece of a data frame), or undefined when more bytes
   * are needed. Throws a ProtocolError on a bad header, only once every frame before it has been returned.
   */
  next(): Frame | undefined {
    if (this.#error) throw this.#error;
    if (this.#state === State.Header) {
      if (this.#buffered < FRAME_HEADER_BYTES) return undefined;
      const header = this.#consume(FRAME_HEADER_BYTES);
      const length = header.readUInt32BE(0);
      const kind = header[4] as number;
      if (!isFrameKind(kind)) return this.#fail(new FrameKindError(kind));
      const limit =
        kind === FrameKind.Control
          ? Math.min(this.#maxFrameBytes, this.#maxControlBytes ?? Infinity)
          : this.#maxFrameBytes;
      if (length > limit) return this.#fail(new FrameTooLargeError(length, limit));
      this.#kind = kind;
      this.#length = length;
      this.#state = State.Payload;
    }
    if (this.#dataPieces && this.#kind === FrameKind.Data && this.#length > 0) return this.#nextPiece();
    return this.#nextWhole();
  }

  /** A piece of the current data frame's payload, as much of it as the first buffered chunk holds. */
  #nextPiece(): Frame | undefined {
    if (this.#buffered === 0) return undefined;
    const take = Math.min((this.#chunks[0] as Buffer).length, this.#length);
    this.#length -= take;
    if (this.#length > 0) return { kind: FrameKind.Data, payload: this.#consume(take), more: true };
    this.#state = State.Header;
    return { kind: FrameKind.Data, payload: this.#consume(take) };
  }

  #nextWhole(): Frame | undefined {
    if (this.#gather !== undefined) {
      if (this.#gathered < this.#length) return undefined;
      const payload = this.#gather;
      this.#gather = undefined;
      this.#gathered = 0;
      this.#state = State.Header;
      return { kind: this.#kind, payload };
    }
    if (this.#buffered >= this.#length) {
      this.#state = State.Header;
      return { kind: this.#kind, payload: this.#consume(this.#length) };
    }
    if (this.#chunks.length > MAX_PENDING_CHUNKS) {
      // Arriving in small pieces: gather from now on into one buffer, so the chunks (and their objects) go.
      this.#gather = Buffer.allocUnsafe(this.#length);
      this.#gathered = this.#buffered;
      this.#consumeInto(this.#gather, this.#buffered);
    }
    return undefined;
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
    this.#gather = undefined;
    this.#gathered = 0;
    throw error;
  }

  /** Takes `n` buffered bytes from the front. Slices without copying when they lie in one chunk. */
  #consume(n: number): Buffer {
    const first = this.#chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length === n) {
      this.#buffered -= n;
      this.#chunks.shift();
      return first;
    }
    if (first !== undefined && first.length > n) {
      this.#buffered -= n;
      this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    this.#consumeInto(out, n);
    return out;
  }

  /** Copies `n` buffered bytes from the front into the start of `out`. */
  #consumeInto(out: Buffer, n: number): void {
    this.#buffered -= n;
    let offset = 0;
    while (offset < n) {
      const chunk = this.#chunks[0] as Buffer;
      const take = Math.min(chunk.length, n - offset);
      chunk.copy(out, offset, 0, take);
      offset += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
  }
}

function checkLimit(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}
