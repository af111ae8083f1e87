/**
 * A file put's bytes on their way into the data directory (docs/SERVER.md §5, steps 1-2): a temporary
 * `tmp/<serverId>.<n>.part`, written in order within the put's share of the input budget and a window of writes in
 * flight (./file-writes.ts), the bytes counted and hashed as they come. At the commit the temporary is fsynced and
 * closed, an age file is decrypted into a second temporary beside it when the server keeps plaintext, and both go
 * to the group commit (./group-commit.ts); discarded, it is closed and removed. The store makes and removes a
 * file put's temporaries here and nowhere else.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError } from '@proj/protocol';
import { detectAge } from '@proj/crypto';
import { codeOf } from '../error-code';
import type { Logger } from '../logger';
import { removeIfThere } from './durable';
import {
  gather,
  releaseBuffers,
  startWrite,
  WRITE_BATCH_BYTES,
  WRITE_WINDOW_BYTES,
  writeFailure,
  type FileWrites,
} from './file-writes';
import type { CommitInput } from './commit-input';
import type { CommitResult, FileCommitResult, FileMeta, FileSink, FileSinkOptions } from './item-store';

/** Bytes of a file kept to recognise an age header. */
const HEAD_BYTES = 64;

/** What a sink uses of its store (./store.ts). */
export interface SinkStore {
  /** A fresh temporary path, unique to this process. */
  tempPath(purpose: string): string;
  commit(input: CommitInput): Promise<CommitResult>;
  readonly log: Logger;
}

export class LocalFileSink implements FileSink {
  readonly #store: SinkStore;
  readonly #id: string;
  readonly #tempPath: string;
  readonly #writes: FileWrites;
  readonly #signal: AbortSignal;
  readonly #hash: Hash = createHash('sha256');
  #sha256: string | undefined;
  #head = Buffer.alloc(0);
  #discarded = false;

  private constructor(store: SinkStore, options: FileSinkOptions, tempPath: string, writes: FileWrites) {
    this.#store = store;
    this.#id = options.id;
    this.#signal = options.signal;
    this.#tempPath = tempPath;
    this.#writes = writes;
  }

  /** Takes the first write buffer from the budget (waiting for it in turn), then creates the temporary. */
  static async open(store: SinkStore, options: FileSinkOptions): Promise<LocalFileSink> {
    const { size, budget, signal } = options;
    const base = Math.min(WRITE_BATCH_BYTES, size ?? WRITE_BATCH_BYTES);
    await budget.take(base, signal);
    const tempPath = store.tempPath('part');
    let handle: FileHandle;
    try {
      handle = await open(tempPath, 'wx', 0o600);
    } catch (err) {
      budget.give(base);
      throw new StorageError(`could not create a temporary file: ${(err as Error).message}`, { cause: err });
    }
    const writes: FileWrites = {
      handle,
      size,
      received: 0,
      gather: undefined,
      gathered: 0,
      spare: [],
      writes: [],
      writingBytes: 0,
      budget,
      reserved: base,
      free: base,
    };
    return new LocalFileSink(store, options, tempPath, writes);
  }

  get received(): number {
    return this.#writes.received;
  }

  get failure(): StorageError | undefined {
    const { writeError } = this.#writes;
    return writeError === undefined || this.#discarded ? undefined : writeFailure(writeError);
  }

  write(payload: Buffer): Promise<void> | void {
    const put = this.#writes;
    if (this.#head.length < HEAD_BYTES)
      this.#head = Buffer.concat([this.#head, payload.subarray(0, HEAD_BYTES - this.#head.length)]);
    this.#hash.update(payload);
    put.received += payload.length;
    const placed = gather(put, payload);
    if (placed < payload.length) return this.#gatherLater(payload.subarray(placed));
    if (put.writingBytes > WRITE_WINDOW_BYTES) return this.#waitForWindow();
  }

  /**
   * Gathers the rest of a payload when the input budget had no buffer for it: waits for a write in flight to hand
   * its buffer back, or for the budget.
   */
  async #gatherLater(rest: Buffer): Promise<void> {
    const put = this.#writes;
    while (rest.length > 0 && put.writeError === undefined) {
      if (put.writes.length > 0) {
        await put.writes[0];
      } else {
        const left = put.size === undefined ? WRITE_BATCH_BYTES : put.size - put.received + rest.length;
        const bytes = Math.min(WRITE_BATCH_BYTES, left);
        await put.budget.take(bytes, this.#signal);
        put.reserved += bytes;
        put.free += bytes;
      }
      rest = rest.subarray(gather(put, rest));
    }
  }

  /** Waits until the writes in flight fit the window again. */
  async #waitForWindow(): Promise<void> {
    const put = this.#writes;
    while (put.writingBytes > WRITE_WINDOW_BYTES && put.writes.length > 0) await put.writes[0];
  }

  get isAge(): boolean {
    return detectAge(this.#head) !== null;
  }

  sha256(): string {
    this.#sha256 ??= this.#hash.digest('hex');
    return this.#sha256;
  }

  async commit(meta: FileMeta): Promise<FileCommitResult> {
    const put = this.#writes;
    const log = this.#store.log;
    const { sender } = meta;
    const id = this.#id;
    const plainTemp = this.#store.tempPath('plain');
    try {
      try {
        startWrite(put);
        await Promise.all(put.writes);
        releaseBuffers(put);
        if (put.writeError !== undefined) throw put.writeError;
        await put.handle.sync();
      } finally {
        await put.handle.close();
      }
    } catch (err) {
      await rm(this.#tempPath, { force: true });
      throw writeFailure(err);
    }
    try {
      const encrypted = this.isAge;
      if (encrypted && meta.declared !== 'age') {
        log.info({ sender, id, declared: meta.declared }, 'an age file sent as plain bytes; stored as an age file');
      }
      const cleaned = meta.cleanedName;
      const fileName = encrypted && !cleaned.toLowerCase().endsWith('.age') ? `${cleaned}.age` : cleaned;
      let plaintext: { tempPath: string; fileName: string } | undefined;
      let decryptFailure: string | undefined;
      if (encrypted && meta.decrypt) {
        try {
          await decryptToFile(this.#tempPath, plainTemp, meta.decrypt);
          plaintext = { tempPath: plainTemp, fileName: fileName.replace(/\.age$/i, '') || 'plaintext' };
        } catch (err) {
          decryptFailure = codeOf(err);
          log.warn({ sender, id, code: decryptFailure }, 'cannot decrypt; keeping the ciphertext only');
        }
      }
      const result = await this.#store.commit({
        id,
        kind: 'file',
        tempPath: this.#tempPath,
        fileName,
        bytes: put.received,
        sha256: this.sha256(),
        encrypted,
        sender,
        name: meta.name,
        ...(plaintext ? { plaintext } : {}),
      });
      return decryptFailure === undefined ? result : { ...result, decryptFailure };
    } finally {
      // The commit removed them unless it failed before it took them.
      removeIfThere(this.#tempPath);
      removeIfThere(plainTemp);
    }
  }

  async discard(): Promise<void> {
    if (this.#discarded) return;
    this.#discarded = true;
    const put = this.#writes;
    put.writeError ??= new Error('discarded');
    put.gather = undefined;
    put.gathered = 0;
    await Promise.all(put.writes);
    releaseBuffers(put);
    await put.handle.close().catch(() => undefined);
    await rm(this.#tempPath, { force: true });
  }
}

/**
 * Decrypts `inPath` into a new file `outPath` (exclusive create, 0600, fsynced). The whole file authenticates or
 * this throws (a CryptoError with a code) and `outPath` is removed.
 */
async function decryptToFile(inPath: string, outPath: string, decrypt: () => Transform): Promise<void> {
  try {
    await pipeline(
      createReadStream(inPath, { highWaterMark: 1024 * 1024 }),
      decrypt(),
      createWriteStream(outPath, { flags: 'wx', mode: 0o600, flush: true }),
    );
  } catch (err) {
    await rm(outPath, { force: true });
    throw err;
  }
}
