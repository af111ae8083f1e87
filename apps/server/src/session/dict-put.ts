/**
 * A dictionary put (docs/PROTOCOL.md §4), from its body's first byte to its answer: the body gathered into blocks
 * from the input budget as it arrives, then looked up, decoded and checked (large ones in a worker), approved,
 * stored, and answered with its receipt or an error.
 */
import { ShuttingDownError, SizeMismatchError } from '@proj/protocol';
import type { PutDict } from '@proj/protocol/wire';
import { SCREEN_MAX_BYTES } from '../output/output';
import { toReceipt } from '../store/receipts';
import type { PutHost } from './context';

/** A dictionary body is gathered in blocks of this size (see DictPut.#blocks). */
const DICT_BLOCK_BYTES = 64 * 1024;

export class DictPut {
  readonly msg: PutDict;
  /** Set when the put arrived after shutdown began: its body is read and then refused. */
  readonly refused: boolean;
  readonly #host: PutHost;
  /**
   * The body as it arrives, however it is framed: copied into blocks of at most DICT_BLOCK_BYTES, each taken
   * from the input budget only when the bytes for it arrive. A client that announces 1 MiB and sends slowly holds
   * one block, not the megabyte.
   */
  #blocks: Buffer[] = [];
  #received = 0;
  /** Bytes taken from the input budget for the blocks. */
  #reserved = 0;

  constructor(msg: PutDict, refused: boolean, host: PutHost) {
    this.msg = msg;
    this.refused = refused;
    this.#host = host;
  }

  /** True once every byte of the body has arrived. */
  get complete(): boolean {
    return this.#received === this.msg.bytes;
  }

  /**
   * Takes a piece of the body; returns a promise when it has to wait (socket paused) for the input budget.
   * Throws ERR_SIZE_MISMATCH for bytes beyond the size announced.
   */
  write(payload: Buffer): Promise<void> | void {
    if (this.#received + payload.length > this.msg.bytes) {
      throw new SizeMismatchError(this.msg.bytes, this.#received + payload.length);
    }
    const placed = this.#place(payload);
    if (placed < payload.length) return this.#placeLater(payload.subarray(placed));
  }

  /**
   * Copies what it can of `payload` into the body's blocks, taking a new block from the input budget when one is
   * full. Returns how many bytes it placed: fewer when the budget had no block to give.
   */
  #place(payload: Buffer, granted = 0): number {
    const { budget } = this.#host.ctx;
    let offset = 0;
    while (offset < payload.length) {
      // Every block but the last is full: the last one is full when all the bytes reserved have arrived.
      if (this.#received === this.#reserved) {
        const size = Math.min(DICT_BLOCK_BYTES, this.msg.bytes - this.#received);
        if (granted >= size) granted -= size;
        else if (!budget.tryTake(size)) break;
        this.#reserved += size;
        this.#blocks.push(Buffer.allocUnsafeSlow(size));
      }
      const block = this.#blocks[this.#blocks.length - 1] as Buffer;
      const copied = payload.copy(block, block.length - (this.#reserved - this.#received), offset);
      offset += copied;
      this.#received += copied;
    }
    if (granted > 0) budget.give(granted);
    return offset;
  }

  /** Waits (socket paused) for the input budget to give the next block, then places the rest of the payload. */
  async #placeLater(rest: Buffer): Promise<void> {
    while (rest.length > 0) {
      const size = Math.min(DICT_BLOCK_BYTES, this.msg.bytes - this.#received);
      await this.#host.ctx.budget.take(size, this.#host.signal);
      rest = rest.subarray(this.#place(rest, size));
    }
  }

  /** Decodes, approves and stores the whole body, and answers the put; gives its blocks back to the budget. */
  async store(): Promise<void> {
    const host = this.#host;
    const { ctx, sender } = host;
    const { id, format } = this.msg;
    const blocks = this.#blocks;
    const bytes = blocks.length === 1 ? (blocks[0] as Buffer) : Buffer.concat(blocks, this.msg.bytes);
    blocks.length = 0;
    try {
      if (this.refused) throw new ShuttingDownError();
      // The first answer is the answer (docs/PROTOCOL.md §4, Idempotency): a stored id gets its first receipt,
      // whatever this body holds. When an operator approves puts, the store is asked before the operator is;
      // otherwise the commit finds a stored id itself (one lookup fewer per put), and a body that does not decode
      // is looked up before it is refused.
      if (ctx.approval !== undefined) {
        const first = await ctx.store.findReceipt(id);
        if (first) return host.sendDuplicate(first);
      }
      const limits = { maxDictBytes: ctx.options.limits.maxDictBytes, maxDictDepth: ctx.options.limits.maxDictDepth };
      let views: Awaited<ReturnType<typeof ctx.dictDecoder.decode>>;
      try {
        // Large dictionaries are decoded and checked in a worker: one dense dictionary must not stall every client.
        views = await ctx.dictDecoder.decode(bytes, {
          format,
          limits,
          wanted: { preview: ctx.approval !== undefined, screenChars: ctx.output.showsContent ? SCREEN_MAX_BYTES : 0 },
          signal: host.signal,
        });
      } catch (err) {
        const first =
          ctx.approval === undefined && !host.signal.aborted
            ? await ctx.store.findReceipt(id).catch(() => undefined)
            : undefined;
        if (first) return host.sendDuplicate(first);
        throw err;
      }
      await host.approve({
        kind: 'dict',
        id,
        sender,
        detail: format,
        bytes: bytes.length,
        ...(views.preview !== undefined ? { preview: views.preview } : {}),
      });
      const started = performance.now();
      const { item, duplicate } = await ctx.store.storeDict({ id, format, data: bytes, sender });
      if (duplicate) return host.sendDuplicate(item);
      host.send(toReceipt(item, false));
      ctx.metrics?.stored('dict', item.bytes, (performance.now() - started) / 1000);
      host.stats.dicts += 1;
      host.stats.bytes += item.bytes;
      ctx.log.info({ sender, id, format, bytes: item.bytes, path: item.path }, 'dict stored');
      ctx.output.dict(item, views.screen);
    } catch (err) {
      host.putError(err, id);
    } finally {
      this.release();
    }
  }

  /** Gives the blocks' bytes back to the input budget. */
  release(): void {
    this.#host.ctx.budget.give(this.#reserved);
    this.#reserved = 0;
  }
}
