/**
 * A file put's bytes on their way into the cluster (docs/SCALE-OUT.md, "Design"): gathered into chunks and
 * published to the object store's stream as they come, several chunks in flight at once (the library's `put`
 * waits for each chunk's acknowledgement and reached a third of the speed). Each chunk holds its share of the
 * input budget from the moment it is gathered until the cluster acknowledges it.
 *
 * Under a nuid unique to the attempt, nothing is visible until the commit: it checks that every chunk was stored,
 * once and in order, writes the object's meta under a name unique to the attempt, then creates the receipt. A put
 * that loses the race for its id removes its object and answers with the winner's receipt; a discarded put
 * removes its chunks. What a crash leaves behind is collected by ./cleanup.ts after an age.
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
import type { StoredItem } from '../receipts';
import type { JsConnection } from './connection';
import { filePath, ITEMS_BUCKET } from './names';
import { chunkSubject, digestOfHex, metaSubject, purgeObject } from './objects';
import { createReceipt } from './receipts';
import { DeadlineError, retry } from './retry';

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
}

export class ObjectFileSink implements FileSink {
  readonly #store: ObjectSinkStore;
  readonly #options: FileSinkOptions;
  readonly #nuid: string;
  readonly #chunkBytes: number;
  readonly #hash: Hash = createHash('sha256');
  #sha256: string | undefined;
  #head = Buffer.alloc(0);
  #received = 0;
  /** The chunk being gathered, and how much of it is filled; its budget share is held. */
  #gather: Buffer | undefined;
  #gathered = 0;
  #sent = 0;
  /** Chunks sent so far (their indexes are 0 to #chunks - 1). */
  #chunks = 0;
  /** Stream sequence of each acknowledged chunk, by index. */
  readonly #seqs: number[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #error: unknown;
  #finished = false;

  private constructor(store: ObjectSinkStore, options: FileSinkOptions, chunkBytes: number) {
    this.#store = store;
    this.#options = options;
    this.#nuid = store.conn.libs.transport.nuid.next();
    this.#chunkBytes = chunkBytes;
  }

  /** Takes the first chunk's share of the budget (waiting for it in turn), as the local sink does. */
  static async open(store: ObjectSinkStore, options: FileSinkOptions): Promise<ObjectFileSink> {
    const chunkBytes = Math.min(CHUNK_BYTES, store.conn.maxPayload - 4096);
    const sink = new ObjectFileSink(store, options, chunkBytes);
    // An empty file takes nothing; bytes it was not announced to have take a chunk when they come.
    if (options.size !== 0) await sink.#takeChunk();
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

  /** This store keeps no partials yet (docs/SCALE-OUT.md): every put starts at the file's first byte. */
  readonly offset = 0;
  readonly offsetSha256: string | undefined = undefined;

  /** Without partials, a cut put keeps nothing: the same as a discard. */
  suspend(): Promise<void> {
    return this.discard();
  }

  get failure(): StorageError | undefined {
    if (this.#error === undefined || this.#finished) return undefined;
    return asStorageError(this.#error);
  }

  get isAge(): boolean {
    return detectAge(this.#head) !== null;
  }

  sha256(): string {
    this.#sha256 ??= this.#hash.digest('hex');
    return this.#sha256;
  }

  write(payload: Buffer): Promise<void> | void {
    if (this.#head.length < HEAD_BYTES)
      this.#head = Buffer.concat([this.#head, payload.subarray(0, HEAD_BYTES - this.#head.length)]);
    this.#hash.update(payload);
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
    const { conn } = this.#store;
    const subject = chunkSubject(conn, this.#nuid);
    const msgID = `${this.#nuid}.${index}`;
    const flight: Promise<void> = retry(
      'chunk write',
      (timeout) => conn.js.publish(subject, data, { msgID, timeout }),
      conn.deadline,
    )
      .then((ack) => {
        this.#seqs[index] = ack.seq;
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
    for (let i = 0; i < this.#chunks; i++) {
      if (this.#seqs[i] === undefined) throw new StorageError(`chunk ${i} has no acknowledgement`);
    }
    for (let i = 1; i < this.#chunks; i++) {
      if ((this.#seqs[i] as number) <= (this.#seqs[i - 1] as number))
        throw new StorageError(`chunk ${i} was stored out of order`);
    }
  }

  async commit(meta: FileMeta): Promise<FileCommitResult> {
    const { conn, log, serverId } = this.#store;
    const id = this.#options.id;
    let name: string | undefined;
    try {
      await this.#flush();
      const encrypted = this.isAge;
      if (encrypted && meta.declared !== 'age') {
        log.info(
          { sender: meta.sender, id, declared: meta.declared },
          'an age file sent as plain bytes; stored as an age file',
        );
      }
      const cleaned = meta.cleanedName;
      const fileName = encrypted && !cleaned.toLowerCase().endsWith('.age') ? `${cleaned}.age` : cleaned;
      const at = new Date();
      name = filePath(at, serverId, this.#store.nextAttempt(), id, fileName);
      const info = {
        name,
        bucket: ITEMS_BUCKET,
        nuid: this.#nuid,
        size: this.#received,
        chunks: this.#chunks,
        mtime: at.toISOString(),
        digest: digestOfHex(this.sha256()),
        deleted: false,
        options: { max_chunk_size: this.#chunkBytes },
        metadata: { putId: id },
      };
      const headers = conn.libs.transport.headers();
      headers.set('Nats-Rollup', 'sub');
      const subject = metaSubject(conn, name);
      await retry(
        'object meta write',
        (timeout) => conn.js.publish(subject, JSON.stringify(info), { headers, msgID: `${this.#nuid}.meta`, timeout }),
        conn.deadline,
      );
      const item: StoredItem = {
        id,
        kind: 'file',
        path: name,
        bytes: this.#received,
        sha256: this.sha256(),
        encrypted,
        receivedAt: at.toISOString(),
        sender: meta.sender,
        name: meta.name,
        serverId,
      };
      let outcome: Awaited<ReturnType<typeof createReceipt>>;
      try {
        outcome = await createReceipt(conn, { item, attempt: this.#nuid });
      } catch (err) {
        // The receipt may have been created with its answer lost: the object stays (cleanup keeps it only if a
        // receipt names it), and the client's retry of the id gets whichever receipt is there.
        if (err instanceof DeadlineError) {
          this.#finished = true;
          throw new StorageInDoubtError(`receipt of ${id}: ${err.message}`, { cause: err });
        }
        throw err;
      }
      this.#finished = true;
      if (outcome.created) return { item, duplicate: false };
      await purgeObject(conn, this.#nuid, name).catch((err) =>
        log.warn(
          { id, object: name, err: (err as Error).message },
          'could not remove the object of a put that lost its id; cleanup will',
        ),
      );
      return { item: outcome.winner.item, duplicate: true };
    } catch (err) {
      if (err instanceof StorageInDoubtError) throw err;
      this.#finished = true;
      await purgeObject(conn, this.#nuid, name).catch(() => undefined);
      throw asStorageError(err);
    }
  }

  async discard(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#error ??= new Error('discarded');
    if (this.#gather !== undefined) {
      this.#options.budget.give(this.#gather.length);
      this.#gather = undefined;
    }
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
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
