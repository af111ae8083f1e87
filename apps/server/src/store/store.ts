/**
 * The data directory as the server's store (./item-store.ts): opening it (layout, lock, recovery) and closing it,
 * the receipts index, dictionaries, file sinks (./file-sink.ts) and reading items back. Items are made durable
 * and visible by the group commit (./group-commit.ts), which holds the durability promise (docs/SERVER.md §5).
 *
 * The store holds its server's lock (./liveness.ts) from open to close: other servers sharing the directory
 * leave its temporaries and journal alone while it runs, and clean up after it once it is gone.
 *
 * Partials of cut file puts (./partials.ts) are kept beside the items, never among them; expired ones are removed
 * at open and then every PARTIAL_SWEEP_MS (at most; a shorter TTL sweeps more often).
 */
import { hash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DICT_FILE_EXTENSIONS } from '@proj/protocol/dict';
import type { Logger } from '../logger';
import { cleanStale } from './cleanup';
import { mkdirDurable } from './durable';
import { LocalFileSink, type SinkStore } from './file-sink';
import { GroupCommit } from './group-commit';
import type { CommitResult, DictToStore, FileSink, FileSinkOptions, ItemList, ItemStore } from './item-store';
import { Journal, type JournalOptions } from './journal';
import { listDataDir, readFileHead } from './local-catalog';
import { journalReceipts } from './journal-index';
import { Owners, ServerLock } from './liveness';
import { DEFAULT_PARTIAL_TTL_MS, Partials } from './partials';
import { layout, receiptFileName } from './paths';
import { repairReceipts } from './receipt-repair';
import { readReceipt, type StoredItem } from './receipts';
import { replayJournals } from './recovery';

/** Longest time between two sweeps of expired partials. */
const PARTIAL_SWEEP_MS = 10 * 60_000;

export class Store implements ItemStore {
  #counter = 0;
  #lock: ServerLock | undefined;
  readonly #journal: Journal;
  readonly #commits: GroupCommit;
  readonly #sinkStore: SinkStore;
  #sweep: NodeJS.Timeout | undefined;
  readonly dirs: ReturnType<typeof layout>;
  /** Partials of cut file puts (./partials.ts). */
  readonly partials: Partials;

  private constructor(
    readonly dataDir: string,
    readonly serverId: string,
    log: Logger,
    journal: JournalOptions,
    partialTtlMs: number,
  ) {
    this.dirs = layout(dataDir);
    this.#journal = new Journal(dataDir, serverId, log, journal);
    this.#commits = new GroupCommit(this.dirs, serverId, this.#journal, log);
    this.partials = new Partials(dataDir, serverId, log, partialTtlMs);
    this.#sinkStore = {
      tempPath: (purpose) => this.#tempPath(purpose),
      commit: (input) => this.#commits.commit(input),
      log,
      partials: this.partials,
    };
  }

  /**
   * Creates the directory layout and takes this server's lock, replays the journals of dead processes
   * (restoring what they acknowledged), rebuilds damaged receipts where it can, then removes what dead processes
   * left behind unacknowledged.
   */
  static async open(
    dataDir: string,
    serverId: string,
    log: Logger,
    journal: JournalOptions = {},
    partialTtlMs = DEFAULT_PARTIAL_TTL_MS,
  ): Promise<Store> {
    const store = new Store(dataDir, serverId, log, journal, partialTtlMs);
    for (const dir of Object.values(store.dirs)) await mkdirDurable(dir);
    // Before anything of this server exists, so that no other server ever sees it without its lock.
    store.#lock = ServerLock.acquire(dataDir, serverId, log);
    try {
      const owners = new Owners(dataDir, serverId, log);
      await replayJournals(dataDir, serverId, log, journal.flush, owners);
      await repairReceipts(dataDir, serverId, owners, log);
      const cleaned = await cleanStale(dataDir, serverId, log, Date.now(), owners);
      if (cleaned.temps + cleaned.orphans > 0) log.info(cleaned, 'removed stale temporaries and unacknowledged items');
      await store.partials.init();
      await store.partials.clean();
      // After this server's lock exists: what running servers acknowledged and hold only in their journals.
      store.#commits.learnForeign(journalReceipts(dataDir, serverId));
    } catch (err) {
      store.#lock.release();
      throw err;
    }
    const every = Math.max(1000, Math.min(PARTIAL_SWEEP_MS, Math.floor(partialTtlMs / 4)));
    store.#sweep = setInterval(() => {
      store.partials.clean().catch((err: unknown) => log.warn({ err }, 'sweeping expired partials failed'));
    }, every);
    store.#sweep.unref();
    return store;
  }

  /**
   * For a clean stop, once no commit is pending: flushes what the journal covers and deletes its segments, so
   * the next start has nothing to replay; then gives up the lock (and its file).
   */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    await this.#commits.close();
    await this.#journal.close();
    this.#lock?.release();
    this.#lock = undefined;
  }

  get where(): string {
    return this.dataDir;
  }

  list(): Promise<ItemList> {
    return listDataDir(this.dataDir);
  }

  /** A fresh temporary path, unique to this process (`tmp/<serverId>.<n>.<purpose>`), for a file sink. */
  #tempPath(purpose: string): string {
    this.#counter += 1;
    return join(this.dirs.tmp, `${this.serverId}.${this.#counter}.${purpose}`);
  }

  /** The item stored under `id`, if any. */
  async findReceipt(id: string): Promise<StoredItem | undefined> {
    const known = this.#commits.known(id); // acknowledged, its receipt file not written yet
    if (known) return known;
    // Most puts are new: a cheap check first (no thread-pool round trip, no exception for ENOENT).
    if (!existsSync(join(this.dirs.receipts, receiptFileName(id)))) return undefined;
    return readReceipt(this.dataDir, id);
  }

  storeDict(dict: DictToStore): Promise<CommitResult> {
    const { id, format, data, sender } = dict;
    return this.#commits.commit({
      id,
      kind: 'dict',
      data,
      fileName: `dict.${DICT_FILE_EXTENSIONS[format]}`,
      bytes: data.length,
      sha256: hash('sha256', data),
      format,
      encrypted: false,
      sender,
    });
  }

  openFileSink(options: FileSinkOptions): Promise<FileSink> {
    return LocalFileSink.open(this.#sinkStore, options);
  }

  async readHead(path: string, maxBytes: number): Promise<{ head: Buffer; more: boolean }> {
    // A dictionary acknowledged a moment ago may still wait for its file (./materialiser.ts).
    await this.#commits.materialised();
    return readFileHead(`${this.dataDir}/${path}`, maxBytes);
  }

  openReader(path: string, highWaterMark: number): Readable {
    const file = `${this.dataDir}/${path}`;
    const materialised = this.#commits.materialised();
    // A dictionary acknowledged a moment ago may still wait for its file (./materialiser.ts): read once it is there.
    return Readable.from(
      (async function* () {
        await materialised;
        yield* createReadStream(file, { highWaterMark });
      })(),
      { objectMode: false },
    );
  }
}
