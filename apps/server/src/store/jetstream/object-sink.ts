/**
 * A file put's bytes on their way into the cluster (docs/SCALE-OUT.md, "Design"): gathered into chunks and
 * published to the object store's stream as they come, several chunks in flight at once (the library's `put`
 * waits for each chunk's acknowledgement and reached a third of the speed). Each chunk holds its share of the
 * input budget from the moment it is gathered until the cluster acknowledges it.
 *
 * Under a nuid unique to the attempt, nothing is visible until the commit: it checks that every chunk was stored,
 * once and in order, then ./object-commit.ts writes the object's meta under a name unique to the attempt and
 * creates the receipt. A put that loses the race for its id removes its object and answers with the winner's
 * receipt; a discarded put removes its chunks. What a crash leaves behind is collected by ./cleanup.ts after an age.
 *
 * On a resume connection the sink holds the id's partial (./partials.ts): it may continue one (its chunks come
 * first, the new ones go after them on the same subject), records its whole acknowledged chunks every RECORD_MS,
 * and `suspend()` keeps them when the put is cut. The SHA-256 is taken chunk by chunk as chunks are sent, so at a
 * cut the hash state is that of exactly the chunks sent, which the same process keeps for a resume.
 */
import { createHash, type Hash } from 'node:crypto';
import { detectAge } from '@proj/crypto';
import { StorageError } from '@proj/protocol';
import type { Logger } from '../../logger';
import {
  type FileCommitResult,
  type FileMeta,
  type FileSink,
  type FileSinkOptions,
  StorageInDoubtError,
} from '../item-store';
import type { JsConnection } from './connection';
import { chunkSubject, purgeObject } from './objects';
import { commitObject } from './object-commit';
import { countOn } from './partial-chunks';
import { type HeldPartial, type JsPartials, PartialLostError, RECORD_MS } from './partials';
import { retry } from './retry';

/** Bytes of a file kept to recognise an age header. */
const HEAD_BYTES = 64;
/** Largest chunk; smaller when the cluster's max_payload is. */
export const CHUNK_BYTES = 1024 * 1024;
/** Chunks published and not yet acknowledged, at most. */
export const CHUNKS_IN_FLIGHT = 8;

/** What a sink uses of its store (./jetstream-store.ts). */
export interface ObjectSinkStore {
  conn: JsConnection;
  serverId: string;
  /** A number unique to this put attempt within the process. */
  nextAttempt(): number;
  log: Logger;
  partials: JsPartials;
}

export class ObjectFileSink implements FileSink {
  readonly #store: ObjectSinkStore;
  readonly #options: FileSinkOptions;
  readonly #nuid: string;
  /** Unique to this sink: its chunks' msgIDs (a retried chunk is deduplicated, another sink's never is). */
  readonly #writer: string;
  readonly #chunkBytes: number;
  /** SHA-256 of the chunks sent, in order; the last bytes gathered are added by sha256(). */
  readonly #hash: Hash;
  #sha256: string | undefined;
  #head: Buffer;
  #received: number;
  readonly #partial: HeldPartial | undefined;
  /** Chunks of the continued partial (indexes 0 to #base - 1) and the sequence of its last one. */
  readonly #base: number;
  readonly #baseSeq: number;
  /** Leading chunks acknowledged in order, their bytes; bytes of each chunk sent, by index. */
  #held: number;
  #heldBytes: number;
  readonly #sizes: number[] = [];
  #lastRecord = Date.now();
  #recording: Promise<void> | undefined;
  #recordTimer: NodeJS.Timeout | undefined;
  /** The chunk being gathered, and how much of it is filled; its budget share is held. */
  #gather: Buffer | undefined;
  #gathered = 0;
  #sent: number;
  /** Chunks sent so far (their indexes are 0 to #chunks - 1). */
  #chunks: number;
  /** Stream sequence of each acknowledged chunk, by index. */
  readonly #seqs: number[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #error: unknown;
  #finished = false;

  private constructor(
    store: ObjectSinkStore,
    options: FileSinkOptions,
    chunkBytes: number,
    writer: string,
    partial: HeldPartial | undefined,
  ) {
    this.#store = store;
    this.#options = options;
    this.#writer = writer;
    this.#nuid = partial?.nuid ?? writer;
    this.#chunkBytes = chunkBytes;
    this.#partial = partial;
    this.#hash = partial?.hash ?? createHash('sha256');
    this.#head = partial?.head ?? Buffer.alloc(0);
    this.#received = this.#sent = this.#heldBytes = partial?.offset ?? 0;
    this.#chunks = this.#base = this.#held = partial?.chunks ?? 0;
    this.#baseSeq = partial?.lastSeq ?? 0;
  }

  /**
   * On a resume connection, claims the id's partial first (./partials.ts). Takes the first chunk's share of the
   * budget (waiting for it in turn), as the local sink does.
   */
  static async open(store: ObjectSinkStore, options: FileSinkOptions): Promise<ObjectFileSink> {
    const chunkBytes = Math.min(CHUNK_BYTES, store.conn.maxPayload - 4096);
    const writer = store.conn.libs.transport.nuid.next();
    const { resume, size } = options;
    let partial: HeldPartial | undefined;
    try {
      if (resume) partial = await store.partials.hold({ id: options.id, size, ...resume }, writer, writer);
    } catch (err) {
      throw asStorageError(err);
    }
    const sink = new ObjectFileSink(store, options, chunkBytes, writer, partial);
    try {
      // An empty rest takes nothing; bytes it was not announced to have take a chunk when they come.
      if (size === undefined || size > sink.#sent) await sink.#takeChunk();
    } catch (err) {
      await partial?.suspend(sink.#progress(), sink.#hash).catch(() => partial?.drop());
      throw err;
    }
    return sink;
  }

  /** Bytes the next chunk takes from the budget: a chunk, or what is left of an announced size. */
  #nextChunkBytes(): number {
    const { size } = this.#options;
    // Past the announced size (the session refuses such a put, but the sink does not rely on it) a whole chunk.
    if (size === undefined || this.#sent >= size) return this.#chunkBytes;
    return Math.min(this.#chunkBytes, size - this.#sent);
  }

  async #takeChunk(): Promise<void> {
    const bytes = this.#nextChunkBytes();
    await this.#options.budget.take(bytes, this.#options.signal);
    this.#gather = Buffer.allocUnsafe(bytes);
    this.#gathered = 0;
  }

  get received(): number {
    return this.#received;
  }

  get offset(): number {
    return this.#partial?.offset ?? 0;
  }

  get offsetSha256(): string | undefined {
    return this.#partial?.prefixSha256;
  }

  get failure(): StorageError | undefined {
    if (this.#error === undefined || this.#finished) return undefined;
    return asStorageError(this.#error);
  }

  get isAge(): boolean {
    return detectAge(this.#head) !== null;
  }

  sha256(): string {
    if (this.#sha256 === undefined) {
      // Every byte is in: the chunk being gathered (sent later by the commit) is hashed now.
      if (this.#gather !== undefined) this.#hash.update(this.#gather.subarray(0, this.#gathered));
      this.#sha256 = this.#hash.digest('hex');
    }
    return this.#sha256;
  }

  write(payload: Buffer): Promise<void> | void {
    if (this.#head.length < HEAD_BYTES)
      this.#head = Buffer.concat([this.#head, payload.subarray(0, HEAD_BYTES - this.#head.length)]);
    this.#received += payload.length;
    if (this.#error !== undefined) return;
    const rest = this.#fill(payload);
    if (rest.length > 0) return this.#writeLater(rest);
    if (this.#inFlight.size >= CHUNKS_IN_FLIGHT) return this.#waitForWindow();
  }

  /** Copies what fits into the chunk being gathered, sending it when full; returns what did not fit. */
  #fill(payload: Buffer): Buffer {
    let rest = payload;
    while (rest.length > 0 && this.#gather !== undefined) {
      const n = Math.min(rest.length, this.#gather.length - this.#gathered);
      rest.copy(this.#gather, this.#gathered, 0, n);
      this.#gathered += n;
      rest = rest.subarray(n);
      if (this.#gathered === this.#gather.length) this.#send();
    }
    return rest;
  }

  async #writeLater(rest: Buffer): Promise<void> {
    while (rest.length > 0 && this.#error === undefined) {
      if (this.#inFlight.size >= CHUNKS_IN_FLIGHT) await this.#waitForWindow();
      await this.#takeChunk();
      rest = this.#fill(rest);
    }
  }

  async #waitForWindow(): Promise<void> {
    while (this.#inFlight.size >= CHUNKS_IN_FLIGHT) await Promise.race(this.#inFlight);
  }

  /** Publishes the gathered chunk; its budget share goes back once the cluster acknowledges it (or refuses). */
  #send(): void {
    const gather = this.#gather;
    if (gather === undefined) return;
    const data = gather.subarray(0, this.#gathered);
    const held = gather.length;
    const index = this.#chunks++;
    this.#gather = undefined;
    this.#sent += data.length;
    this.#sizes[index] = data.length;
    if (this.#sha256 === undefined) this.#hash.update(data);
    const { conn } = this.#store;
    const subject = chunkSubject(conn, this.#nuid);
    const msgID = `${this.#writer}.${index}`;
    const flight: Promise<void> = retry(
      'chunk write',
      (timeout) => conn.js.publish(subject, data, { msgID, timeout }),
      conn.deadline,
    )
      .then((ack) => {
        this.#seqs[index] = ack.seq;
        this.#advance();
      })
      .catch((err) => {
        this.#error ??= err;
      })
      .finally(() => {
        this.#options.budget.give(held);
        this.#inFlight.delete(flight);
      });
    this.#inFlight.add(flight);
  }

  /** Sends the last chunk and waits for every acknowledgement; throws the first failure. */
  async #flush(): Promise<void> {
    if (this.#gather !== undefined) {
      if (this.#gathered > 0 && this.#error === undefined) this.#send();
      else {
        this.#options.budget.give(this.#gather.length);
        this.#gather = undefined;
      }
    }
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    if (this.#error !== undefined) throw this.#error;
    // Chunks are read back in stream order: a chunk stored again by a retry after a later one would be out of it.
    for (let i = this.#base; i < this.#chunks; i++) {
      if (this.#seqs[i] === undefined) throw new StorageError(`chunk ${i} has no acknowledgement`);
    }
    let before = this.#baseSeq;
    for (let i = this.#base; i < this.#chunks; i++) {
      if ((this.#seqs[i] as number) <= before) throw new StorageError(`chunk ${i} was stored out of order`);
      before = this.#seqs[i] as number;
    }
    if (this.#partial) {
      // The subject holds the partial's chunks and this sink's, and nothing else (a put cut on a server that
      // wrote on after its partial was taken over would have added some).
      const count = await countOn(this.#store.conn, chunkSubject(this.#store.conn, this.#nuid));
      if (count !== this.#chunks) throw new StorageError(`${count} chunks stored where ${this.#chunks} were sent`);
      await this.#recording;
      await this.#partial.release();
    }
  }

  #finish(): void {
    this.#finished = true;
    clearTimeout(this.#recordTimer);
    this.#recordTimer = undefined;
  }

  /** Counts the leading chunks acknowledged in order, and records them now and then on a resume connection. */
  #advance(): void {
    let before = this.#held === this.#base ? this.#baseSeq : (this.#seqs[this.#held - 1] as number);
    while (this.#seqs[this.#held] !== undefined && (this.#seqs[this.#held] as number) > before) {
      before = this.#seqs[this.#held] as number;
      this.#heldBytes += this.#sizes[this.#held] as number;
      this.#held += 1;
    }
    const partial = this.#partial;
    if (!partial || this.#recording || this.#finished || this.#recordTimer) return;
    const wait = this.#lastRecord + RECORD_MS - Date.now();
    if (wait > 0) {
      // Progress is recorded at most every RECORD_MS, and at most RECORD_MS after it was made.
      this.#recordTimer = setTimeout(() => {
        this.#recordTimer = undefined;
        this.#advance();
      }, wait);
      this.#recordTimer.unref();
      return;
    }
    this.#lastRecord = Date.now();
    this.#recording = partial
      .record(this.#progress())
      .catch((err) => {
        if (err instanceof PartialLostError) this.#error ??= err;
        else this.#store.log.warn({ id: this.#options.id, err: (err as Error).message }, 'cannot record a partial');
      })
      .finally(() => {
        this.#recording = undefined;
      });
  }

  #progress(): { chunks: number; durable: number; lastSeq: number; head: Buffer } {
    const lastSeq = this.#held === this.#base ? this.#baseSeq : (this.#seqs[this.#held - 1] as number);
    return { chunks: this.#held, durable: this.#heldBytes, lastSeq, head: this.#head };
  }

  async commit(meta: FileMeta): Promise<FileCommitResult> {
    const written: { name?: string } = {};
    try {
      await this.#flush();
      const result = await commitObject(
        this.#store,
        {
          id: this.#options.id,
          nuid: this.#nuid,
          attempt: this.#nuid,
          bytes: this.#received,
          chunks: this.#chunks,
          chunkBytes: this.#chunkBytes,
          sha256: this.sha256(),
          encrypted: this.isAge,
          meta,
        },
        written,
      );
      this.#finish();
      return result;
    } catch (err) {
      this.#finish();
      // In doubt: the receipt may exist, so the object stays (cleanup keeps it only if a receipt names it).
      if (err instanceof StorageInDoubtError) throw err;
      // Chunks of a partial another put took over are its own; otherwise the put is over and keeps nothing.
      if (!(err instanceof PartialLostError)) {
        await this.#partial?.drop();
        await purgeObject(this.#store.conn, this.#nuid, written.name).catch(() => undefined);
      }
      throw asStorageError(err);
    }
  }

  /**
   * A cut put: on a resume connection, once the chunks in flight are answered, the leading acknowledged ones stay
   * as the partial (those acknowledged after a gap are removed); the bytes gathered and not sent are dropped.
   */
  async suspend(): Promise<void> {
    const partial = this.#partial;
    if (!partial || this.#finished || this.#sha256 !== undefined) return this.discard();
    this.#finish();
    this.#error ??= new Error('suspended');
    if (this.#gather !== undefined) {
      this.#options.budget.give(this.#gather.length);
      this.#gather = undefined;
    }
    const { conn, log } = this.#store;
    const id = this.#options.id;
    try {
      while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
      await this.#recording;
      for (let i = this.#held; i < this.#chunks; i++) {
        const seq = this.#seqs[i];
        if (seq !== undefined)
          await retry('chunk removal', () => conn.jsm.streams.deleteMessage(conn.itemsStream, seq), conn.deadline);
      }
      const count = await countOn(conn, chunkSubject(conn, this.#nuid));
      if (count !== this.#held) throw new StorageError(`${count} chunks stored where ${this.#held} are held`);
      // The hash state is of the chunks sent: the partial's exactly when every one of them is held.
      await partial.suspend(this.#progress(), this.#held === this.#chunks ? this.#hash : undefined);
      log.info({ id, durable: this.#heldBytes }, 'file put cut: partial kept');
    } catch (err) {
      log.warn({ id, err: (err as Error).message }, 'cannot keep a partial: dropped');
      if (!(err instanceof PartialLostError)) await partial.drop();
    }
  }

  async discard(): Promise<void> {
    if (this.#finished) return;
    this.#finish();
    this.#error ??= new Error('discarded');
    if (this.#gather !== undefined) {
      this.#options.budget.give(this.#gather.length);
      this.#gather = undefined;
    }
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    await this.#recording;
    if (this.#partial) return this.#partial.drop();
    await purgeObject(this.#store.conn, this.#nuid, undefined).catch((err) =>
      this.#store.log.warn(
        { id: this.#options.id, err: (err as Error).message },
        "could not remove a discarded put's chunks; cleanup will",
      ),
    );
  }
}

function asStorageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  return new StorageError(`the store failed: ${(err as Error).message}`, { cause: err });
}
