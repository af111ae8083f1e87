/**
 * The client's file reader for a file put (docs/PROTOCOL.md §4): a file read as a sequence of chunks for
 * sending, in a few buffers that are read into again once the socket has written them. A read stream allocates
 * a new buffer for every chunk instead: at 1 MiB per chunk that made the garbage collector the sender's largest
 * cost (about 1 CPU-s per GiB sent, more than its SHA-256), on a machine where sender, server and disk share
 * the cores.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Spare buffers kept for reuse; a consumer that recycles nothing just gets new ones. */
const MAX_SPARE_BUFFERS = 4;

export class FileChunks implements AsyncIterable<Buffer> {
  readonly #path: string;
  readonly #chunkBytes: number;
  readonly #start: number;
  #spare: Buffer[] = [];
  /** Memory of the chunks handed out and not yet recycled. */
  #lent = new Set<ArrayBufferLike>();

  /** Reads `path` from byte `start` (default 0) in chunks of `chunkBytes`. */
  constructor(path: string, chunkBytes: number, start = 0) {
    this.#path = path;
    this.#chunkBytes = chunkBytes;
    this.#start = start;
  }

  /**
   * Gives back a chunk this source yielded, once nothing refers to its memory any more (for a socket: once the
   * write's callback has run). Anything else is ignored.
   */
  recycle(chunk: Uint8Array): void {
    if (!this.#lent.delete(chunk.buffer)) return;
    if (this.#spare.length < MAX_SPARE_BUFFERS) this.#spare.push(Buffer.from(chunk.buffer, 0, this.#chunkBytes));
  }

  /** Yields the file's bytes in order, in chunks of up to `chunkBytes`; the next read runs while one is used. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    const handle = await open(this.#path, 'r');
    let position = this.#start;
    let reading: Promise<Buffer> | undefined;
    try {
      reading = this.#read(handle, position);
      for (;;) {
        const chunk = await reading;
        if (chunk.length === 0) return;
        position += chunk.length;
        reading = this.#read(handle, position);
        yield chunk;
      }
    } finally {
      // A read ahead may still be in flight when the consumer stops early: let it finish before closing.
      await reading?.catch(() => undefined);
      await handle.close();
    }
  }

  /** Reads the chunk at `position` into a spare buffer (or a new one); empty at the end of the file. */
  async #read(handle: FileHandle, position: number): Promise<Buffer> {
    const buffer = this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.#chunkBytes);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) {
      this.#spare.push(buffer);
      return buffer.subarray(0, 0);
    }
    this.#lent.add(buffer.buffer);
    return buffer.subarray(0, bytesRead);
  }
}
