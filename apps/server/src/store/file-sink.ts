/**
 * A file put's bytes on their way into the data directory (docs/SERVER.md §5, steps 1-2): a temporary
 * `tmp/<serverId>.<n>.part`, written in order within the put's share of the input budget and a window of writes in
 * flight (./file-writes.ts), the bytes counted and hashed as they come. At the commit the temporary is fsynced and
 * closed, an age file is decrypted into a second temporary beside it when the server keeps plaintext, and both go
 * to the group commit (./group-commit.ts); discarded, it is closed and removed. The store makes and removes a
 * file put's temporaries here and nowhere else.
 *
 * On a connection that negotiated `resume`, the bytes go to a partial instead (./partials.ts): possibly continued
 * from an earlier put of the id (`offset`, `offsetSha256`), its durable count recorded every RECORD_BYTES or
 * RECORD_MS while receiving (fdatasync first), and kept by `suspend()` when the put is cut.
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
import { HEAD_BYTES } from './partial-prefix';
import type { HeldPartial, Partials } from './partials';

/** A partial's durable count is recorded at least every this many bytes written... */
export const RECORD_BYTES = 64 * 1024 * 1024;
/** ...and at least this often (ms) while bytes arrive. */
export const RECORD_MS = 1000;

/** What a sink uses of its store (./store.ts). */
export interface SinkStore {
  /** A fresh temporary path, unique to this process. */
  tempPath(purpose: string): string;
  commit(input: CommitInput): Promise<CommitResult>;
  readonly log: Logger;
  /** Where resumable puts keep their bytes; absent: every put is a plain temporary. */
  readonly partials?: Partials;
}

export class LocalFileSink implements FileSink {
  readonly #store: SinkStore;
  readonly #id: string;
  readonly #tempPath: string;
  readonly #writes: FileWrites;
  readonly #signal: AbortSignal;
  readonly #hash: Hash;
  #sha256: string | undefined;
  #head: Buffer;
  #discarded = false;
  /** The partial the bytes go to, on a resume connection. */
  readonly #partial: HeldPartial | undefined;
  /** Bytes of the partial recorded durable, when last, and the record under way. */
  #recorded: number;
  #recordedAt = performance.now();
  #recording: Promise<void> | undefined;
  #recordFailed = false;

  private constructor(
    store: SinkStore,
    options: FileSinkOptions,
    tempPath: string,
    writes: FileWrites,
    partial: HeldPartial | undefined,
  ) {
    this.#store = store;
    this.#id = options.id;
    this.#signal = options.signal;
    this.#tempPath = tempPath;
    this.#writes = writes;
    this.#partial = partial;
    this.#hash = partial?.hash ?? createHash('sha256');
    this.#head = partial?.head ?? Buffer.alloc(0);
    this.#recorded = partial?.offset ?? 0;
  }

  /**
   * Takes the first write buffer from the budget (waiting for it in turn), then creates the temporary, or, on a
   * resume connection, claims and opens the id's partial.
   */
  static async open(store: SinkStore, options: FileSinkOptions): Promise<LocalFileSink> {
    const { size, budget, signal, resume } = options;
    const base = Math.min(WRITE_BATCH_BYTES, size ?? WRITE_BATCH_BYTES);
    await budget.take(base, signal);
    let partial: HeldPartial | undefined;
    let tempPath: string;
    let handle: FileHandle;
    try {
      if (resume && store.partials) {
        partial = await store.partials.hold({ id: options.id, size, ...resume });
      }
      // An append-only descriptor: a continued partial was cut back to its durable count, and grows from there.
      tempPath = partial?.path ?? store.tempPath('part');
      handle = await open(tempPath, partial ? 'a' : 'wx', 0o600);
    } catch (err) {
      budget.give(base);
      await partial?.drop().catch(() => undefined);
      throw new StorageError(`could not create a temporary file: ${(err as Error).message}`, { cause: err });
    }
    const offset = partial?.offset ?? 0;
    const writes: FileWrites = {
      handle,
      size,
      received: offset,
      written: offset,
      gather: undefined,
      gathered: 0,
      spare: [],
      writes: [],
      writingBytes: 0,
      budget,
      reserved: base,
      free: base,
    };
    return new LocalFileSink(store, options, tempPath, writes, partial);
  }

  get received(): number {
    return this.#writes.received;
  }

  get offset(): number {
    return this.#partial?.offset ?? 0;
  }

  get offsetSha256(): string | undefined {
    return this.#partial?.prefixSha256;
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
    if (this.#partial && this.#recording === undefined && !this.#recordFailed) this.#maybeRecord();
    if (placed < payload.length) return this.#gatherLater(payload.subarray(placed));
    if (put.writingBytes > WRITE_WINDOW_BYTES) return this.#waitForWindow();
  }

  /** Starts recording the partial's durable count when RECORD_BYTES were written or RECORD_MS passed since. */
  #maybeRecord(): void {
    const { written } = this.#writes;
    if (written === this.#recorded) return;
    if (written - this.#recorded < RECORD_BYTES && performance.now() - this.#recordedAt < RECORD_MS) return;
    this.#recording = this.#record().finally(() => {
      this.#recording = undefined;
    });
  }

  /** fdatasyncs what was written, then records it (never before: the count must be durable when it is read). */
  async #record(): Promise<void> {
    const partial = this.#partial as HeldPartial;
    const { written } = this.#writes;
    try {
      await this.#writes.handle.datasync();
      await partial.record(written);
      this.#recorded = written;
      this.#recordedAt = performance.now();
    } catch (err) {
      this.#recordFailed = true;
      this.#store.log.warn({ err, id: this.#id }, 'cannot record a partial; a resume continues from its last record');
    }
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
      await this.#endPartial();
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
      await this.#endPartial();
    }
  }

  /** A stored (or failed) put keeps no partial: its record and claim go (its bytes were the temporary). */
  async #endPartial(): Promise<void> {
    await this.#recording;
    await this.#partial?.drop();
  }

  async suspend(): Promise<void> {
    const partial = this.#partial;
    if (!partial || this.#discarded || this.#sha256 !== undefined) return this.discard();
    this.#discarded = true;
    const put = this.#writes;
    // What was gathered is written too: everything received is kept, as far as the disk took it.
    startWrite(put);
    await Promise.all(put.writes);
    await this.#recording;
    put.gather = undefined;
    put.gathered = 0;
    releaseBuffers(put);
    let durable = this.#recorded;
    let synced = false;
    if (put.writeError === undefined && !this.#recordFailed) {
      try {
        await put.handle.datasync();
        durable = put.written;
        synced = true;
      } catch (err) {
        this.#store.log.warn({ err, id: this.#id }, 'cannot sync a partial; keeping its last recorded count');
      }
    }
    await put.handle.close().catch(() => undefined);
    try {
      // The hash state is of exactly the bytes received; kept only when they are all durable.
      await partial.suspend(durable, synced && durable === put.received ? this.#hash : undefined);
      this.#store.log.info({ id: this.#id, durable }, 'file put cut: partial kept');
    } catch (err) {
      this.#store.log.warn({ err, id: this.#id }, 'cannot record a partial: dropped');
      await partial.drop().catch(() => undefined);
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
    await this.#recording;
    releaseBuffers(put);
    await put.handle.close().catch(() => undefined);
    await rm(this.#tempPath, { force: true });
    await this.#partial?.drop();
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
