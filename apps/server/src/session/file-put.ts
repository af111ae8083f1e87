/**
 * A file put (docs/PROTOCOL.md §4): the checks and the approval before `ready`, the file sink its bytes go to
 * (../store/item-store.ts), the checks of each piece and of `file_end`, and the commit that answers it with its
 * receipt and shows it on the screen. Which frame may come next is the session's business (./session.ts).
 */
import {
  ChecksumMismatchError,
  EncryptionMismatchError,
  FileTooLargeError,
  OffsetError,
  ShuttingDownError,
  SizeMismatchError,
  type ProtocolError,
} from '@proj/protocol';
import { RESUME_CAPABILITY, type FileEnd, type PutFile } from '@proj/protocol/wire';
import { decryptStream } from '../keys';
import { filePreview } from '../output/screen-preview';
import type { FileSink } from '../store/item-store';
import { cleanName } from '../store/paths';
import { toReceipt } from '../store/receipts';
import type { PutHost } from './context';

export class FilePut {
  readonly msg: PutFile;
  /** Where its bytes go. */
  readonly sink: FileSink;
  /** The client's name made safe, for the stored name. */
  readonly #cleaned: string;
  readonly #host: PutHost;

  private constructor(msg: PutFile, cleaned: string, sink: FileSink, host: PutHost) {
    this.msg = msg;
    this.#cleaned = cleaned;
    this.sink = sink;
    this.#host = host;
  }

  /**
   * Checks a put_file (refused when the server is shutting down), has it approved, and opens its sink once the
   * input budget gives its first write buffer. Undefined when the put was answered already (an error, or the
   * first receipt of its id) or the socket closed meanwhile.
   */
  static async open(msg: PutFile, refused: boolean, host: PutHost): Promise<FilePut | undefined> {
    const { id } = msg;
    const { ctx } = host;
    const limits = ctx.options.limits;
    try {
      if (refused) throw new ShuttingDownError();
      // The first answer is the answer (docs/PROTOCOL.md §4, Idempotency): a stored id gets its receipt whatever
      // this put says, before anything in it is checked.
      const first = await ctx.store.findReceipt(id);
      if (first) {
        host.sendDuplicate(first);
        return undefined;
      }
      if (msg.offset !== 0) throw new OffsetError(msg.offset);
      if (msg.size !== undefined && msg.size > limits.maxFileBytes)
        throw new FileTooLargeError(msg.size, limits.maxFileBytes);
      const cleaned = cleanName(msg.name);
      await host.approve({
        kind: 'file',
        id,
        sender: host.sender,
        detail: msg.name,
        ...(msg.size !== undefined ? { bytes: msg.size } : {}),
      });
      // The first write buffer comes from the shared budget before `ready`; a put that cannot have it waits. On a
      // resume connection the sink holds the id's partial, continued when `resume` asks and it matches.
      const resume = host.capabilities.has(RESUME_CAPABILITY)
        ? { continue: msg.resume === true, encryption: msg.encryption, evict: () => host.evict() }
        : undefined;
      const sink = await ctx.store.openFileSink({
        id,
        size: msg.size,
        budget: ctx.budget,
        signal: host.signal,
        ...(resume ? { resume } : {}),
      });
      if (host.socketClosed) {
        // Cut before `ready`: what the partial held is kept as it was.
        await sink.suspend();
        return undefined;
      }
      return new FilePut(msg, cleaned, sink, host);
    } catch (err) {
      host.putError(err, id);
      return undefined;
    }
  }

  /**
   * Why the next `bytes` of the file are refused, if so: beyond the size announced (ERR_SIZE_MISMATCH), else
   * beyond maxFileBytes (ERR_FILE_TOO_LARGE), else a failed write. The size is checked first: it is at most
   * maxFileBytes, so the bytes always pass it first, and the code does not depend on how the stream was split.
   */
  refusal(bytes: number): ProtocolError | undefined {
    const total = this.sink.received + bytes;
    const { maxFileBytes } = this.#host.ctx.options.limits;
    if (this.msg.size !== undefined && total > this.msg.size) return new SizeMismatchError(this.msg.size, total);
    if (total > maxFileBytes) return new FileTooLargeError(total, maxFileBytes);
    return this.sink.failure;
  }

  /**
   * Why the file is refused at its end, if so, in this order: a count other than the client's (ERR_SIZE_MISMATCH),
   * a checksum other than the client's (ERR_CHECKSUM_MISMATCH), bytes declared `age` that are not an age file
   * (ERR_ENCRYPTION_MISMATCH).
   */
  endRefusal(end: FileEnd): ProtocolError | undefined {
    const { msg, sink } = this;
    const sha256 = sink.sha256();
    if (end.bytes !== sink.received) return new SizeMismatchError(end.bytes, sink.received);
    if (msg.size !== undefined && msg.size !== sink.received) return new SizeMismatchError(msg.size, sink.received);
    if (end.sha256 !== sha256) return new ChecksumMismatchError(end.sha256, sha256);
    // Declared ciphertext that is not: the client's encryption failed, and what arrived may be plaintext the
    // sender meant the server never to read. Stored (and shown) it would be exposed; refused, nothing is kept.
    if (msg.encryption === 'age' && !sink.isAge) return new EncryptionMismatchError();
    return undefined;
  }

  /** Commits the file and answers the put: its receipt, then the screen. */
  async store(): Promise<void> {
    const host = this.#host;
    const { ctx, sender } = host;
    const { keys, options, output } = ctx;
    const { msg } = this;
    try {
      const { item, duplicate, decryptFailure } = await this.sink.commit({
        name: msg.name,
        cleanedName: this.#cleaned,
        declared: msg.encryption,
        sender,
        ...(keys.canDecrypt && options.savePlaintext ? { decrypt: () => decryptStream(keys) } : {}),
      });
      host.send(toReceipt(item, duplicate));
      if (duplicate) return;
      host.stats.files += 1;
      host.stats.bytes += item.bytes;
      ctx.log.info(
        { sender, id: msg.id, bytes: item.bytes, encrypted: item.encrypted, path: item.path },
        'file stored',
      );
      output.file(item, output.showsContent ? await filePreview(item, decryptFailure, ctx.store, keys) : undefined);
    } catch (err) {
      host.putError(err, msg.id);
    }
  }
}
