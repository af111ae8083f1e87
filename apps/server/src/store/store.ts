/**
 * The data directory: temporaries, the commit that makes an item durable and visible, and the receipts index.
 *
 * Commit order (the durability promise, docs/SERVER.md §5), for every item:
 *   1. its bytes are in a temporary in `tmp/`, fsynced (a file put's session writes and fsyncs its own; a
 *      dictionary's bytes are written here); its receipt is written to another temporary and fsynced;
 *   2. the temporary is hard-linked under its final name in `items/<day>/` (exclusive: never overwrites), and
 *      that directory is fsynced;
 *   3. the receipt temporary is hard-linked as `receipts/<id>.json` (exclusive: the first writer of an id wins,
 *      across processes), and `receipts/` is fsynced;
 *   4. only then does the commit resolve, and the session send the receipt.
 * A crash before 3 leaves an item with no receipt: an unacknowledged orphan, removed at the next start
 * (./cleanup.ts). A crash after 3 leaves only temporaries behind, also removed at start.
 *
 * Group commit: commits that arrive while a batch is being committed wait and form the next batch. A batch
 * goes through each step together: all its temporaries are written, then fsynced concurrently (the journal
 * merges concurrent fsyncs), all its items are linked, then each touched directory is fsynced once, all its
 * receipts are linked, then `receipts/` is fsynced once. The fsyncs are shared by the whole batch instead of
 * four per item. The cheap steps (open, write, link, close, unlink of small files in the page cache) run as
 * direct system calls; only the fsyncs go to the thread pool.
 */
import { closeSync, existsSync, fsync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '@proj/protocol';
import type { Logger } from '../logger';
import { cleanStale } from './cleanup';
import { mkdirDurable } from './durable';
import { ITEMS_DIR, itemFileName, layout, receiptFileName, utcStamp } from './paths';
import { readReceipt, type StoredItem } from './receipts';

export interface CommitInput {
  id: string;
  kind: 'dict' | 'file';
  /** A complete, fsynced temporary holding exactly the client's bytes (or `data` instead). */
  tempPath?: string;
  /** The client's bytes, written to a temporary and fsynced as part of the commit (small items). */
  data?: Uint8Array;
  /** Cleaned name with its extension, e.g. `report.txt.age` or `dict.json`. */
  fileName: string;
  bytes: number;
  sha256: string;
  format?: 'json' | 'xml' | 'protobuf';
  encrypted: boolean;
  sender: string;
  /** The client's file name as sent. */
  name?: string;
  /** A fsynced temporary with the decrypted plaintext, to store beside the item. */
  plaintext?: { tempPath: string; fileName: string };
}

export interface CommitResult {
  item: StoredItem;
  /** True when another put of this id was stored first: this one stored nothing and `item` is the first. */
  duplicate: boolean;
}

/** Most commits in one batch. */
const MAX_BATCH = 256;
/** Longest wait for the recently active connections' next commits before a batch starts anyway. */
const GATHER_MS = 1;
/** A connection counts as an active committer this long after its last commit. */
const ACTIVE_MS = 20;

/** One commit going through a batch. */
interface Entry {
  input: CommitInput;
  now: Date;
  day: string;
  time: string;
  dir: string;
  resolve(result: CommitResult): void;
  reject(err: unknown): void;
  /** Set once the entry failed: it takes no further step, and what it made is removed. */
  error?: unknown;
  /** Temporaries to remove at the end (this entry's own, never shared). */
  temps: string[];
  itemTemp?: string;
  receiptTemp?: string;
  item?: StoredItem;
  /** Absolute paths linked under `items/`. */
  linked: string[];
  /** `receipts/<id>.json`, once this entry linked it. */
  receiptLinked?: string;
  /** Set when another put of this id won: the first receipt. */
  duplicateOf?: StoredItem;
}

export class Store {
  #counter = 0;
  #queue: Entry[] = [];
  /** A batch is being committed (one at a time: concurrent batches would wait for each other's journal commits). */
  #running = false;
  /** Entries in the batch being committed. */
  #committing = 0;
  #scheduled = false;
  #gatherTimer: NodeJS.Timeout | undefined;
  /** Connection → when it last handed over a commit. */
  #active = new Map<string, number>();
  /** Day directories known to exist durably (created by this process or found). */
  #knownDirs = new Set<string>();
  readonly dirs: ReturnType<typeof layout>;

  private constructor(
    readonly dataDir: string,
    readonly serverId: string,
    private readonly log: Logger,
  ) {
    this.dirs = layout(dataDir);
  }

  /** Creates the directory layout and removes what dead processes left behind. */
  static async open(dataDir: string, serverId: string, log: Logger): Promise<Store> {
    const store = new Store(dataDir, serverId, log);
    for (const dir of Object.values(store.dirs)) await mkdirDurable(dir);
    const cleaned = await cleanStale(dataDir, serverId, log);
    if (cleaned.temps + cleaned.orphans > 0) log.info(cleaned, 'removed stale temporaries and unacknowledged items');
    return store;
  }

  /** A fresh temporary path, unique to this process (`tmp/<serverId>.<n>.<purpose>`). */
  tempPath(purpose: string): string {
    this.#counter += 1;
    return join(this.dirs.tmp, `${this.serverId}.${this.#counter}.${purpose}`);
  }

  /** The item stored under `id`, if any. */
  async findReceipt(id: string): Promise<StoredItem | undefined> {
    // Most puts are new: a cheap check first (no thread-pool round trip, no exception for ENOENT).
    if (!existsSync(join(this.dirs.receipts, receiptFileName(id)))) return undefined;
    return readReceipt(this.dataDir, id);
  }

  /**
   * Makes an item durable under its final name and records its receipt; resolves only once both are on disk.
   * Removes the item's temporaries (also on failure). Throws ERR_STORAGE on failure.
   */
  commit(input: CommitInput): Promise<CommitResult> {
    const now = new Date();
    const { day, time } = utcStamp(now);
    return new Promise<CommitResult>((resolve, reject) => {
      this.#active.set(input.sender, performance.now());
      this.#queue.push({ input, now, day, time, dir: join(this.dirs.items, day), resolve, reject, temps: [], linked: [] });
      this.#schedule();
    });
  }

  /**
   * Starts the next batch once the connections that committed recently (and are not in the running batch) have
   * handed over their next commit, or after GATHER_MS at most; at once when nobody else is expected, so a single
   * client is never delayed. Without the wait, closed-loop clients split into two cohorts that alternate
   * between batches, each batch carrying half of them.
   */
  #schedule(): void {
    if (this.#running || this.#scheduled || this.#queue.length === 0) return;
    if (this.#queue.length < this.#expected()) {
      this.#gatherTimer ??= setTimeout(() => {
        this.#gatherTimer = undefined;
        this.#start();
      }, GATHER_MS);
      return;
    }
    this.#scheduled = true;
    // Commits handed over in the same turn of the event loop join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#start();
    });
  }

  #start(): void {
    if (this.#running || this.#queue.length === 0) return;
    if (this.#gatherTimer) clearTimeout(this.#gatherTimer);
    this.#gatherTimer = undefined;
    void this.#runBatch(this.#queue.splice(0, MAX_BATCH));
  }

  /** How many commits to wait for: the connections that committed within ACTIVE_MS, less those in flight. */
  #expected(): number {
    const since = performance.now() - ACTIVE_MS;
    let active = 0;
    for (const [sender, at] of this.#active) {
      if (at < since) this.#active.delete(sender);
      else active += 1;
    }
    return Math.min(active - this.#committing, MAX_BATCH);
  }

  async #runBatch(batch: Entry[]): Promise<void> {
    this.#running = true;
    this.#committing = batch.length;
    try {
      await this.#commitBatch(batch);
    } catch (err) {
      for (const e of batch) e.error ??= err;
    } finally {
      this.#running = false;
      this.#committing = 0;
      this.#settle(batch);
      this.#schedule();
    }
  }

  async #commitBatch(batch: Entry[]): Promise<void> {
    const live = (): Entry[] => batch.filter((e) => e.error === undefined);

    // 0. The day directories (created durably once, then remembered).
    for (const dir of new Set(batch.map((e) => e.dir))) {
      if (this.#knownDirs.has(dir)) continue;
      try {
        await mkdirDurable(dir);
        this.#knownDirs.add(dir);
      } catch (err) {
        for (const e of batch) if (e.dir === dir) e.error ??= err;
      }
    }

    // 1. The temporaries: the dictionaries' bytes and every receipt, written, then fsynced together.
    const toSync: { fd: number; entry: Entry }[] = [];
    for (const e of live()) {
      try {
        const { input } = e;
        if (input.data !== undefined) {
          const path = this.tempPath(input.kind);
          e.temps.push(path);
          toSync.push({ fd: writeNew(path, input.data), entry: e });
          e.itemTemp = path;
        } else {
          e.itemTemp = input.tempPath;
          if (input.tempPath !== undefined) e.temps.push(input.tempPath);
        }
        if (input.plaintext) e.temps.push(input.plaintext.tempPath);
        if (e.itemTemp === undefined) throw new Error('nothing to store');
        const itemName = itemFileName(e.time, this.serverId, input.id, input.fileName);
        const plainName = input.plaintext ? itemFileName(e.time, this.serverId, input.id, input.plaintext.fileName) : undefined;
        e.item = this.#describe(e, itemName, plainName);
        e.receiptTemp = this.tempPath('receipt');
        e.temps.push(e.receiptTemp);
        toSync.push({ fd: writeNew(e.receiptTemp, receiptText(e.item)), entry: e });
      } catch (err) {
        e.error ??= err;
      }
    }
    await syncAndClose(toSync);

    // 2. Link every item under its final name, then fsync each touched directory once.
    const rewrite: Entry[] = [];
    for (const e of live()) {
      try {
        const item = e.item as StoredItem;
        const itemName = linkUnique(e.itemTemp as string, e.dir, basename(item.path));
        e.linked.push(join(e.dir, itemName));
        let plainName: string | undefined;
        if (e.input.plaintext) {
          plainName = linkUnique(e.input.plaintext.tempPath, e.dir, basename(item.plaintextPath as string));
          e.linked.push(join(e.dir, plainName));
        }
        if (itemName !== basename(item.path) || (plainName !== undefined && plainName !== basename(item.plaintextPath as string))) {
          // The planned name was taken (a put of the same id in the same second): the receipt must say the
          // name actually used, so it is written again.
          e.item = this.#describe(e, itemName, plainName);
          rewrite.push(e);
        }
      } catch (err) {
        e.error ??= err;
      }
    }
    const rewritten: { fd: number; entry: Entry }[] = [];
    for (const e of rewrite) {
      if (e.error !== undefined) continue;
      try {
        e.receiptTemp = this.tempPath('receipt');
        e.temps.push(e.receiptTemp);
        rewritten.push({ fd: writeNew(e.receiptTemp, receiptText(e.item as StoredItem)), entry: e });
      } catch (err) {
        e.error ??= err;
      }
    }
    const itemDirs = groupBy(live().filter((e) => e.linked.length > 0), (e) => e.dir);
    await Promise.all([syncAndClose(rewritten), ...[...itemDirs].map(([dir, entries]) => syncDirFor(dir, entries))]);

    // 3. Link every receipt (exclusive: the first writer of an id wins), then fsync `receipts/` once.
    const losers: Entry[] = [];
    const winners: Entry[] = [];
    for (const e of live()) {
      const receiptPath = join(this.dirs.receipts, receiptFileName(e.input.id));
      try {
        linkSync(e.receiptTemp as string, receiptPath);
        e.receiptLinked = receiptPath;
        winners.push(e);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          e.error ??= err;
          continue;
        }
        // Another put of this id won: undo ours and answer with the first receipt.
        try {
          e.duplicateOf = JSON.parse(readFileSync(receiptPath, 'utf8')) as StoredItem;
          unlinkAll(e.linked);
          losers.push(e);
        } catch (err2) {
          e.error ??= err2;
        }
      }
    }
    const loserDirs = groupBy(losers, (e) => e.dir);
    await Promise.all([
      winners.length > 0 ? syncDirFor(this.dirs.receipts, winners) : undefined,
      // The undone links: not needed for any promise, but keeps the directory as the client was told.
      ...[...loserDirs].map(([dir, entries]) => syncDirFor(dir, entries, false)),
    ]);
    for (const e of losers) e.linked.length = 0;
  }

  /** Answers every entry of a finished batch and removes its temporaries (and, for failures, its links). */
  #settle(batch: Entry[]): void {
    for (const e of batch) {
      if (e.error !== undefined) {
        this.log.error({ err: e.error, id: e.input.id }, 'commit failed');
        try {
          if (e.receiptLinked) unlinkSync(e.receiptLinked);
        } catch {
          // best effort: a receipt whose item is gone is reported by the audit, not served
        }
        try {
          unlinkAll(e.linked);
        } catch {
          // best effort
        }
      }
      try {
        unlinkAll(e.temps);
      } catch (err) {
        this.log.warn({ err, id: e.input.id }, 'could not remove a temporary');
      }
    }
    for (const e of batch) {
      if (e.error !== undefined) {
        e.reject(new StorageError(`could not store the item: ${(e.error as Error).message}`, { cause: e.error }));
      } else if (e.duplicateOf) {
        e.resolve({ item: e.duplicateOf, duplicate: true });
      } else {
        e.resolve({ item: e.item as StoredItem, duplicate: false });
      }
    }
  }

  #describe(e: Entry, itemName: string, plainName: string | undefined): StoredItem {
    const { input } = e;
    return {
      id: input.id,
      kind: input.kind,
      path: `${ITEMS_DIR}/${e.day}/${itemName}`,
      bytes: input.bytes,
      sha256: input.sha256,
      ...(input.format !== undefined ? { format: input.format } : {}),
      encrypted: input.encrypted,
      receivedAt: e.now.toISOString(),
      sender: input.sender,
      ...(input.name !== undefined ? { name: input.name } : {}),
      serverId: this.serverId,
      ...(plainName !== undefined ? { plaintextPath: `${ITEMS_DIR}/${e.day}/${plainName}` } : {}),
    };
  }
}

function receiptText(item: StoredItem): string {
  return `${JSON.stringify(item, null, 2)}\n`;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Creates `path` (exclusive), writes all of `data`; returns the open descriptor (the caller fsyncs and closes). */
function writeNew(path: string, data: string | Uint8Array): number {
  const fd = openSync(path, 'wx', 0o600);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** fsyncs every descriptor concurrently and closes it; a failure fails only its entry. */
async function syncAndClose(list: { fd: number; entry: Entry }[]): Promise<void> {
  await Promise.all(
    list.map(async ({ fd, entry }) => {
      try {
        await fsyncFd(fd);
      } catch (err) {
        entry.error ??= err;
      } finally {
        try {
          closeSync(fd);
        } catch (err) {
          entry.error ??= err;
        }
      }
    }),
  );
}

/** fsyncs a directory once for all `entries` linked in it; a failure fails them all (unless `failEntries` is false). */
async function syncDirFor(dir: string, entries: Entry[], failEntries = true): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    await fsyncFd(fd);
  } catch (err) {
    if (failEntries) for (const e of entries) e.error ??= err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function groupBy<T>(list: T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const t of list) {
    const k = key(t);
    const group = map.get(k);
    if (group) group.push(t);
    else map.set(k, [t]);
  }
  return map;
}

/** Links `src` as `dir/base`, or with `2~`, `3~`… before the id part when the name is taken. */
function linkUnique(src: string, dir: string, base: string): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : withCounter(base, n);
    try {
      linkSync(src, join(dir, name));
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw err;
    }
  }
}

/** `HHMMSS-sid-pid-id-name` → `HHMMSS-sid-pid-n~id-name`: the counter goes before the id. */
function withCounter(base: string, n: number): string {
  const m = /^(\d{6}-[0-9a-f]{8}-\d+-)(.*)$/.exec(base);
  return m ? `${m[1]}${n}~${m[2]}` : `${n}~${base}`;
}

/** Removes every path; one already gone is fine. Throws the first other failure after trying them all. */
function unlinkAll(paths: string[]): void {
  let first: unknown;
  for (const p of paths) {
    try {
      unlinkSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') first ??= err;
    }
  }
  if (first !== undefined) throw first;
}
