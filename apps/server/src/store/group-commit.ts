/**
 * Group commit: the commit that makes an item durable and visible (the durability promise, docs/SERVER.md §5),
 * made for a batch of items together. The commit point is the journal: an item is acknowledged once its record
 * (its receipt, and a dictionary's bytes) is in this process's journal segment and the segment is fdatasynced.
 *   1. a file's temporary (written and fsynced by its sink, ./file-sink.ts) is hard-linked under its final name
 *      in `items/<day>/` (exclusive: never overwrites); a dictionary's final name is chosen, not yet created;
 *   2. one journal record per item is appended to this process's segment, which is fdatasynced once for the
 *      batch (./journal.ts); at the same time the directories where files were linked are fsynced;
 *   3. the claim of each put id (the first put of an id wins, also across processes sharing the directory):
 *      - alone (no other lock in `locks/`, looked at after step 2): no `receipts/<id>.json` may exist for it;
 *        the receipt file and a dictionary's item file are written just after the acknowledgement
 *        (./materialiser.ts), and a retry meanwhile is answered from memory;
 *      - beside another server or `list`: a dictionary's item file is written, then `receipts/<id>.json` is
 *        created exclusively (O_EXCL), before the acknowledgement, as the other process may look for it;
 *      a put that lost removes what it placed and is answered with the first receipt;
 *   4. only then does the commit resolve, and the session send the receipt.
 * Why looking at `locks/` after step 2 is enough: a server that starts creates its lock before it reads the
 * journals of the running ones (./journal-index.ts, ./store.ts); so either it read this batch's records, or its
 * lock was there to be seen. Within this process, a second put of an id waits for the first one's outcome.
 *
 * A crash before 2 is over leaves linked files without receipts: unacknowledged orphans, removed at the next
 * start (./cleanup.ts). A crash after it may lose files and receipts that were not yet written (back), but the
 * journal has them: the next start replays it (./recovery.ts) before it serves; a segment is deleted only after
 * everything it covers was written and flushed.
 *
 * ERR_STORAGE means nothing stored. An item that fails after its journal record is durable (its receipt does not
 * fit on a full disk, say) is withdrawn by a durable abort record, in room its append reserved, before the
 * client is told; replay skips it. If even that cannot be made durable, the outcome is unknown, and the commit
 * fails with StorageInDoubtError (ERR_STORAGE_IN_DOUBT), not ERR_STORAGE: the session must not claim that
 * nothing was stored.
 *
 * Commits that arrive while a batch is being committed wait and form the next batch, so one fdatasync serves all
 * of them. The cheap steps (open, write, link, close of small files in the page cache) run as direct system
 * calls; only the fsyncs go to the thread pool.
 */
import { closeSync, existsSync, linkSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { StorageError } from '@proj/protocol';
import type { Logger } from '../logger';
import { createFile, fsyncFd, mkdirDurable, unlinkAll } from './durable';
import { storedItem, type CommitInput } from './commit-input';
import { StorageInDoubtError, type CommitResult } from './item-store';
import { JournalInDoubtError, type Journal } from './journal';
import { abortRecordBytes, encodeAbort, encodeRecord } from './journal-record';
import { Materialiser } from './materialiser';
import { itemFileName, placeUnique, receiptFileName, utcStamp, withCounter } from './paths';
import { readReceiptFile, receiptText, type StoredItem } from './receipts';

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
  item?: StoredItem;
  /** Absolute paths linked (or created) under `items/`. */
  linked: string[];
  /** A dictionary's item file: named, not yet created. */
  deferred?: string;
  /** Claimed while alone: its files are written after the acknowledgement (./materialiser.ts). */
  materialise?: boolean;
  /** `receipts/<id>.json`, once this entry created it. */
  receiptCreated?: string;
  /** Set when another put of this id claimed it first. */
  lost?: boolean;
  /** The first receipt, when another put of this id won. */
  duplicateOf?: StoredItem;
  /** Its journal record is durable: a failure must withdraw it (an abort record) before it is reported. */
  journaled?: boolean;
  /** Failed, and whether replay would bring it back is unknown. */
  inDoubt?: boolean;
}

export class GroupCommit {
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
  /** Settles when the running batch (if any) is over. */
  #batchDone: Promise<void> = Promise.resolve();
  /** Put id → the commit of it under way in this process. */
  readonly #inflight = new Map<string, Promise<CommitResult>>();
  /** Receipts that running servers had only in their journals when this one started (./journal-index.ts). */
  #foreign = new Map<string, StoredItem>();
  readonly #names = new NameBook();
  readonly #materialiser: Materialiser;
  readonly #journal: Journal;
  readonly #ownLock: string;

  constructor(
    private readonly dirs: { items: string; receipts: string; locks: string },
    private readonly serverId: string,
    journal: Journal,
    private readonly log: Logger,
  ) {
    this.#journal = journal;
    this.#ownLock = `${serverId}.lock`;
    this.#materialiser = new Materialiser(dirs.receipts, log);
    journal.setCheckpointGuard(() => this.#materialiser.settled());
  }

  /** The receipt of `id` if this process knows it without reading `receipts/` (acknowledged, files not yet written). */
  known(id: string): StoredItem | undefined {
    return this.#materialiser.get(id) ?? this.#foreign.get(id);
  }

  /** Receipts that other running servers hold only in their journals, read once this server's lock exists. */
  learnForeign(receipts: Map<string, StoredItem>): void {
    this.#foreign = receipts;
  }

  /**
   * Makes an item durable under its final name and records its receipt; resolves once it is durable. Removes the
   * item's temporaries (also on failure). Throws ERR_STORAGE on failure. A put of an id this process already
   * stored, or is storing, is answered with the first receipt (once the first put succeeded).
   */
  commit(input: CommitInput): Promise<CommitResult> {
    const known = this.known(input.id);
    if (known) {
      this.#discard(input);
      return Promise.resolve({ item: known, duplicate: true });
    }
    const first = this.#inflight.get(input.id);
    if (first) {
      return first.then(
        (r) => {
          this.#discard(input);
          return { item: r.item, duplicate: true };
        },
        () => this.commit(input),
      );
    }
    const now = new Date();
    const { day, time } = utcStamp(now);
    const promise = new Promise<CommitResult>((resolve, reject) => {
      this.#active.set(input.sender, performance.now());
      this.#queue.push({
        input,
        now,
        day,
        time,
        dir: join(this.dirs.items, day),
        resolve,
        reject,
        temps: [],
        linked: [],
      });
      this.#schedule();
    });
    this.#inflight.set(input.id, promise);
    const clear = (): void => {
      if (this.#inflight.get(input.id) === promise) this.#inflight.delete(input.id);
    };
    promise.then(clear, clear);
    return promise;
  }

  /** Removes the temporaries of a put answered without a batch. */
  #discard(input: CommitInput): void {
    try {
      unlinkAll([input.tempPath, input.plaintext?.tempPath].filter((p): p is string => p !== undefined));
    } catch (err) {
      this.log.warn({ err, id: input.id }, 'could not remove a temporary');
    }
  }

  /** Resolves once every acknowledged item's files are written (at once when none waits). */
  materialised(): Promise<void> {
    return this.#materialiser.idle();
  }

  /** For a clean stop: drains, then stops the thread that writes acknowledged items' files. */
  async close(): Promise<void> {
    await this.drain();
    await this.#materialiser.stop();
  }

  /** Resolves once no commit is waiting or being made (starting those that wait at once). */
  async drain(): Promise<void> {
    while (this.#running || this.#queue.length > 0) {
      this.#start();
      await this.#batchDone;
    }
    await this.#materialiser.idle();
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
    this.#batchDone = this.#runBatch(this.#queue.splice(0, MAX_BATCH));
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
      // The files of acknowledged items are written behind the commits: past its bound, the next batch waits.
      if (this.#materialiser.full) await this.#materialiser.idle();
      try {
        await this.#commitBatch(batch);
      } catch (err) {
        for (const e of batch) e.error ??= err;
      }
      await this.#withdraw(batch);
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

    // 1. Files linked under their final names, dictionaries' names chosen; nothing fsynced.
    for (const e of live()) {
      try {
        const { input } = e;
        if (input.tempPath !== undefined) e.temps.push(input.tempPath);
        if (input.plaintext) e.temps.push(input.plaintext.tempPath);
        const second = `${e.day}/${e.time}`;
        const planned = itemFileName(e.time, this.serverId, input.id, input.fileName);
        let itemName: string;
        if (input.data !== undefined) {
          itemName = this.#names.reserve(second, planned);
          e.deferred = join(e.dir, itemName);
        } else if (input.tempPath !== undefined) {
          itemName = this.#link(e.dir, second, planned, input.tempPath);
          e.linked.push(join(e.dir, itemName));
        } else throw new Error('nothing to store');
        let plainName: string | undefined;
        if (input.plaintext) {
          const { tempPath, fileName } = input.plaintext;
          plainName = this.#link(e.dir, second, itemFileName(e.time, this.serverId, input.id, fileName), tempPath);
          e.linked.push(join(e.dir, plainName));
        }
        e.item = storedItem(e.input, { day: e.day, at: e.now, serverId: this.serverId, itemName, plainName });
      } catch (err) {
        e.error ??= err;
      }
    }

    // 2. Durable: the batch's journal records in one fdatasync; with them, the directories where files were
    //    linked (a file's bytes were fsynced by its sink, but its new name is only durable with its directory).
    const placed = live();
    const fileDirs = groupBy(
      placed.filter((e) => e.input.data === undefined),
      (e) => e.dir,
    );
    const records = placed.map((e) =>
      encodeRecord(
        e.input.data !== undefined
          ? { item: e.item as StoredItem, data: e.input.data }
          : { item: e.item as StoredItem },
      ),
    );
    // Room for withdrawing every record of the batch, in blocks the segment already has (a full disk).
    const reserve = placed.reduce((n, e) => n + abortRecordBytes(abortOf(e)), 0);
    await Promise.all([
      records.length > 0
        ? this.#journal.append(records, reserve).then(
            () => {
              for (const e of placed) e.journaled = true;
            },
            (err: unknown) => {
              for (const e of placed) {
                e.error ??= err;
                if (err instanceof JournalInDoubtError) e.inDoubt = true;
              }
            },
          )
        : undefined,
      ...[...fileDirs].map(([dir, entries]) => syncDirFor(dir, entries)),
    ]);

    // 3. Claim every put id. Alone: no receipt file of it may exist (a server that has since stopped may have
    //    written one). Beside another process: the item file, then `receipts/<id>.json` created exclusively
    //    (the first writer of an id wins). The journal already holds both, so nothing is fsynced here.
    const shared = this.#othersShareDir();
    for (const e of live()) {
      const receiptPath = join(this.dirs.receipts, receiptFileName(e.input.id));
      if (!shared) {
        if (existsSync(receiptPath)) e.lost = true;
        else e.materialise = true;
        continue;
      }
      try {
        if (e.deferred !== undefined) {
          createFile(e.deferred, e.input.data as Uint8Array);
          e.linked.push(e.deferred);
          e.deferred = undefined;
        }
      } catch (err) {
        e.error ??= err;
        continue;
      }
      try {
        createFile(receiptPath, receiptText(e.item as StoredItem));
        e.receiptCreated = receiptPath;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') e.error ??= err;
        else e.lost = true;
      }
    }
    // Another put of these ids won: undo ours and answer with the first receipt.
    for (const e of live()) {
      if (!e.lost) continue;
      try {
        e.duplicateOf = await readReceiptFile(join(this.dirs.receipts, receiptFileName(e.input.id)));
        unlinkAll(e.linked);
        e.linked.length = 0;
      } catch (err) {
        e.error ??= err;
      }
    }
  }

  /** Hard-links `temp` as `dir/base` (or `base` with a counter): a name neither on disk nor given this second. */
  #link(dir: string, second: string, base: string, temp: string): string {
    const name = placeUnique(dir, base, (path) => {
      if (this.#names.taken(second, basename(path))) throw Object.assign(new Error('name given'), { code: 'EEXIST' });
      linkSync(temp, path);
    });
    this.#names.note(name);
    return name;
  }

  /** Whether any other process holds (or is taking) a lock on the data directory: a server, or `list`. */
  #othersShareDir(): boolean {
    try {
      return readdirSync(this.dirs.locks).some((name) => name !== this.#ownLock);
    } catch {
      return true; // cannot tell: claim as if shared
    }
  }

  /**
   * Withdraws the durable journal records of the batch's entries that failed or lost to another put of their id,
   * with one durable append of abort records, so that no replay brings them back. A failure that cannot be
   * withdrawn is in doubt. Never throws.
   */
  async #withdraw(batch: Entry[]): Promise<void> {
    const withdrawn = batch.filter((e) => e.journaled && (e.error !== undefined || e.lost));
    if (withdrawn.length === 0) return;
    try {
      await this.#journal.append(withdrawn.map(abortRecord));
    } catch (err) {
      for (const e of withdrawn) if (e.error !== undefined) e.inDoubt = true;
      this.log.error(
        { err, ids: withdrawn.map((e) => e.input.id) },
        'could not withdraw failed puts from the journal: they may come back after a crash',
      );
    }
  }

  /** Answers every entry of a finished batch and removes its temporaries (and, for failures, its links). */
  #settle(batch: Entry[]): void {
    for (const e of batch) {
      if (e.error !== undefined) {
        this.log.error({ err: e.error, id: e.input.id }, 'commit failed');
        try {
          if (e.receiptCreated) unlinkSync(e.receiptCreated);
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
      if (e.inDoubt) {
        e.reject(
          new StorageInDoubtError(
            `could not store the item, and cannot tell whether a crash would bring it back: ${(e.error as Error).message}`,
            { cause: e.error },
          ),
        );
      } else if (e.error !== undefined) {
        e.reject(new StorageError(`could not store the item: ${(e.error as Error).message}`, { cause: e.error }));
      } else if (e.duplicateOf) {
        e.resolve({ item: e.duplicateOf, duplicate: true });
      } else {
        const item = e.item as StoredItem;
        if (e.materialise) {
          this.#materialiser.add(
            item,
            e.deferred !== undefined ? { itemPath: e.deferred, data: e.input.data as Uint8Array } : undefined,
          );
        }
        e.resolve({ item, duplicate: false });
      }
    }
  }
}

/**
 * The names this process gave items in the current second. Item names hold the second, this server's id and the
 * put id, so only this process can take them, and only within the second; a dictionary's name is given before
 * its file exists, so names are kept here rather than found taken on disk.
 */
class NameBook {
  #second = '';
  #used = new Set<string>();

  /** `base`, or `base` with a counter, not given yet in `second` (`<day>/<HHMMSS>`); now given. */
  reserve(second: string, base: string): string {
    for (let n = 1; ; n++) {
      const name = n === 1 ? base : withCounter(base, n);
      if (!this.taken(second, name)) {
        this.#used.add(name);
        return name;
      }
    }
  }

  taken(second: string, name: string): boolean {
    if (second !== this.#second) {
      this.#second = second;
      this.#used = new Set();
    }
    return this.#used.has(name);
  }

  note(name: string): void {
    this.#used.add(name);
  }
}

/** What withdraws an entry's journal record. */
function abortOf(e: Entry): { id: string; path: string } {
  return { id: e.input.id, path: (e.item as StoredItem).path };
}

/** The abort record that withdraws an entry's journal record. */
function abortRecord(e: Entry): Buffer {
  return encodeAbort(abortOf(e));
}

/** fsyncs a directory once for all `entries` linked in it; a failure fails them all. */
async function syncDirFor(dir: string, entries: Entry[]): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    await fsyncFd(fd);
  } catch (err) {
    for (const e of entries) e.error ??= err;
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
