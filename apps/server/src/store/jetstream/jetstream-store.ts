/**
 * A NATS JetStream cluster as the server's store (../item-store.ts; docs/SCALE-OUT.md, "Design"): receipts in a
 * replicated KV bucket whose `create` decides the first writer of a put id (./receipts.ts), a dictionary inside
 * its receipt entry, a file in the object store written by ./object-sink.ts, reads by Direct Get (./objects.ts),
 * orphans collected after an age (./cleanup.ts), partials of cut puts kept for a resume on any server
 * (./partials.ts), items removed receipt first (./removal.ts). Servers keep nothing of their own: any number of
 * them, on any hosts, may share one cluster, and a retry that reaches another server gets the first receipt.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageError } from '@proj/protocol';
import { DICT_FILE_EXTENSIONS } from '@proj/protocol/dict';
import type { Logger } from '../../logger';
import { UsageError } from '../../options';
import {
  type CommitResult,
  type DictToStore,
  type FileSink,
  type FileSinkOptions,
  type ItemCatalog,
  type ItemList,
  type ItemStore,
  type RemoveOutcome,
  StorageInDoubtError,
} from '../item-store';
import type { StoredItem } from '../receipts';
import { cleanOrphans, ORPHAN_AGE_MS } from './cleanup';
import { connectStore, type JsConnection } from './connection';
import { dictPath, idOfKey, parseItemPath } from './names';
import { ObjectFileSink, type ObjectSinkStore } from './object-sink';
import { objectReader } from './objects';
import { DEFAULT_PARTIAL_TTL_MS, JsPartials } from './partials';
import type { NatsCredentials } from './options';
import { createReceipt, getReceipt, getReceiptFromLeader, listReceiptEntries } from './receipts';
import { isStored, removeStoredItem } from './removal';
import { type Deadline, DeadlineError } from './retry';

/** Room in a receipt entry beside a dictionary: the receipt's JSON and the message's headers. */
const RECEIPT_ROOM_BYTES = 64 * 1024;

export interface JetStreamStoreOptions {
  servers: string[];
  credentials?: NatsCredentials;
  serverId: string;
  log: Logger;
  /** The largest dictionary the server takes: the cluster's max_payload must hold it and its receipt. */
  maxDictBytes?: number;
  /** Replicas of the bucket and object store when this store creates them; default 3. */
  replicas?: number;
  deadline?: Deadline;
  /**
   * Collect orphans (objects no receipt names, chunks no object names) at open and every hour; default true. A
   * command that only reads passes false.
   */
  clean?: boolean;
  orphanAgeMs?: number;
  /** `--partial-ttl`: partials not written for longer are removed, checked every quarter of it (1 s to 10 min). */
  partialTtlMs?: number;
  /** How long a partial's owner may go without touching it before another server may claim it (tests). */
  partialLeaseMs?: number;
}

export class JetStreamStore implements ItemStore, ItemCatalog {
  #attempts = 0;
  #timer: NodeJS.Timeout | undefined;
  #partialTimer: NodeJS.Timeout | undefined;
  #cleaning: Promise<unknown> = Promise.resolve();
  readonly #sinkStore: ObjectSinkStore;
  readonly partials: JsPartials;

  private constructor(
    readonly conn: JsConnection,
    readonly serverId: string,
    readonly where: string,
    readonly log: Logger,
    partialTtlMs: number,
    partialLeaseMs: number | undefined,
  ) {
    this.partials = new JsPartials(conn, log, partialTtlMs, partialLeaseMs);
    this.#sinkStore = { conn, serverId, nextAttempt: () => ++this.#attempts, log, partials: this.partials };
  }

  /** Connects, opens or creates the bucket and the object store, and starts collecting orphans. */
  static async open(options: JetStreamStoreOptions): Promise<JetStreamStore> {
    const conn = await connectStore({
      servers: options.servers,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      name: `proj-server ${options.serverId}`,
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
      ...(options.deadline ? { deadline: options.deadline } : {}),
      log: options.log,
    });
    const need = (options.maxDictBytes ?? 0) + RECEIPT_ROOM_BYTES;
    if (options.maxDictBytes !== undefined && conn.maxPayload < need) {
      await conn.close();
      throw new UsageError(
        `the store's max_payload (${conn.maxPayload} bytes) cannot hold a dictionary of --max-dict-bytes (${options.maxDictBytes}) and its receipt: set max_payload to at least ${need} in every nats-server's configuration`,
      );
    }
    const store = new JetStreamStore(
      conn,
      options.serverId,
      `nats://${options.servers.map((s) => s.replace(/^\w+:\/\//, '')).join(',')}`,
      options.log,
      options.partialTtlMs ?? DEFAULT_PARTIAL_TTL_MS,
      options.partialLeaseMs,
    );
    if (options.clean ?? true) {
      const age = options.orphanAgeMs ?? ORPHAN_AGE_MS;
      store.#clean(age);
      store.#timer = setInterval(() => store.#clean(age), 60 * 60 * 1000);
      store.#timer.unref();
      const every = Math.min(10 * 60_000, Math.max(1000, Math.floor(store.partials.ttlMs / 4)));
      store.#partialTimer = setInterval(() => store.#sweepPartials(), every);
      store.#partialTimer.unref();
    }
    return store;
  }

  #clean(age: number): void {
    this.#cleaning = this.#cleaning.then(() =>
      cleanOrphans(this.conn, this.log, age, Date.now(), this.partials).then(
        (removed) => {
          if (removed.objects + removed.chunks + removed.partials > 0)
            this.log.info(removed, 'removed orphan objects and chunks, and expired partials');
        },
        (err) => this.log.warn({ err: (err as Error).message }, 'orphan cleanup failed; it runs again in an hour'),
      ),
    );
  }

  /** Removes the partials past `--partial-ttl` between the hourly runs. */
  #sweepPartials(): void {
    this.#cleaning = this.#cleaning.then(() =>
      this.partials.clean().then(
        () => undefined,
        (err) => this.log.warn({ err: (err as Error).message }, 'partial cleanup failed; it runs again'),
      ),
    );
  }

  /** Removes orphans older than `olderThanMs`, and partials past the TTL, now (the timers do it on their own). */
  cleanOrphans(olderThanMs: number, now = Date.now()): Promise<{ objects: number; chunks: number; partials: number }> {
    return cleanOrphans(this.conn, this.log, olderThanMs, now, this.partials);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#partialTimer);
    await this.#cleaning;
    await this.conn.close();
  }

  /**
   * A miss is answered by any replica (Direct Get). A hit is asked again of the bucket's leader: a replica that has
   * not yet applied the removal of the receipt (`server rm`) would answer a put of the id with the removed item's
   * receipt. Hits are rare (a client's retry), so the extra request costs little.
   */
  async findReceipt(id: string): Promise<StoredItem | undefined> {
    const found = await this.#read(() => getReceipt(this.conn, id));
    if (found === undefined) return undefined;
    return (await this.#read(() => getReceiptFromLeader(this.conn, id)))?.item;
  }

  async storeDict(dict: DictToStore): Promise<CommitResult> {
    const { id, format, data, sender } = dict;
    const at = new Date();
    const item: StoredItem = {
      id,
      kind: 'dict',
      path: dictPath(at, this.serverId, id, DICT_FILE_EXTENSIONS[format]),
      bytes: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
      format,
      encrypted: false,
      receivedAt: at.toISOString(),
      sender,
      serverId: this.serverId,
    };
    const attempt = `${this.serverId}.${++this.#attempts}`;
    try {
      const { created, winner } = await createReceipt(this.conn, { item, attempt, data });
      return created ? { item, duplicate: false } : { item: winner.item, duplicate: true };
    } catch (err) {
      // The entry may have landed with its answer lost: no honest answer but none (the client retries the id).
      if (err instanceof DeadlineError)
        throw new StorageInDoubtError(`receipt of ${id}: ${err.message}`, { cause: err });
      throw asStorageError(err);
    }
  }

  openFileSink(options: FileSinkOptions): Promise<FileSink> {
    return ObjectFileSink.open(this.#sinkStore, options);
  }

  async readHead(path: string, maxBytes: number): Promise<{ head: Buffer; more: boolean }> {
    const chunks: Buffer[] = [];
    let length = 0;
    const reader = this.openReader(path, 1024 * 1024);
    try {
      for await (const chunk of reader) {
        chunks.push(chunk as Buffer);
        length += (chunk as Buffer).length;
        if (length > maxBytes) break;
      }
    } finally {
      reader.destroy();
    }
    const all = Buffer.concat(chunks);
    return { head: all.subarray(0, Math.min(all.length, maxBytes)), more: all.length > maxBytes };
  }

  openReader(path: string, _highWaterMark: number): Readable {
    const named = parseItemPath(path);
    if (named?.kind === 'file') return objectReader(this.conn, named.object);
    return Readable.from(
      (async function* (conn: JsConnection) {
        const id = named === undefined ? undefined : idOfKey(named.key);
        let entry = id === undefined ? undefined : await getReceipt(conn, id);
        // A replica may not have applied a receipt just created: a miss is asked again of the leader.
        if (id !== undefined && entry?.item.path !== path) entry = await getReceiptFromLeader(conn, id);
        if (entry?.data === undefined || entry.item.path !== path)
          throw new StorageError(`no item ${path} in the store`);
        yield entry.data;
      })(this.conn),
      { objectMode: false },
    );
  }

  /**
   * The receipt of `id` as the bucket's leader has it: an operator's command sees a receipt a replica has not
   * applied yet, and not one removed meanwhile (a replica's answer would be asked of the leader either way).
   */
  async find(id: string): Promise<StoredItem | undefined> {
    return (await this.#read(() => getReceiptFromLeader(this.conn, id)))?.item;
  }

  present(item: StoredItem): Promise<boolean> {
    return this.#read(() => isStored(this.conn, item));
  }

  /** Receipt entry first, then the file's object (./removal.ts). */
  remove(item: StoredItem): Promise<RemoveOutcome> {
    return this.#read(() => removeStoredItem(this.conn, item));
  }

  async list(): Promise<ItemList> {
    const { entries, damaged } = await this.#read(() => listReceiptEntries(this.conn));
    return {
      items: entries.map((e) => e.item),
      damaged: damaged.map((d) => ({ ...d, candidates: [] })),
    };
  }

  /** A read that ran out of time is a storage failure like any other (nothing is in doubt). */
  async #read<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      throw asStorageError(err);
    }
  }
}

function asStorageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  return new StorageError(`the store failed: ${(err as Error).message}`, { cause: err });
}
