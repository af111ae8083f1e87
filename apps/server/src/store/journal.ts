/**
 * The store's journal: an append-only log that makes a batch of items durable with one write and one
 * `fdatasync`, instead of an fsync for each of their files and directories (docs/SERVER.md §5).
 *
 * Each server process appends to its own segments, `journal/<serverId>.<n>.log`. A batch's records (the
 * receipts, with a dictionary's bytes inside its record) are written with one positional write, then the
 * segment is fdatasynced; only then are the items acknowledged. Their files and receipts under `items/` and
 * `receipts/` are written without fsync (most of them just after the acknowledgement: ./materialiser.ts), and
 * reach the disk with the kernel's writeback.
 *
 * A segment is created full of zeros and fsynced before its first record, so an append overwrites blocks that
 * are already allocated: its fdatasync writes the data and changes no metadata, and does not wait for (or
 * cause) a commit of the file system's own journal, which every file creation of the store would otherwise
 * queue behind. The first segment is 1 MiB and each next one twice the last, up to SEGMENT_BYTES: a server
 * that stores little writes little. The next segment is prepared while the current one fills.
 *
 * A segment is retired once full (or after a failed append: it may end in a torn record, and the next append
 * starts a fresh one). A retired segment is checkpointed CHECKPOINT_DELAY_MS later (by then the
 * kernel has written most of what it covers back, so the flush is cheap): once the files its records name are
 * written, the file system is flushed
 * (./sync-fs.ts), then the segment is deleted. On a clean stop every segment is checkpointed at once. After a
 * crash, the next start replays the segments of dead processes (./recovery.ts).
 *
 * An append can reserve room after its records, so that abort records withdrawing them (./journal-record.ts)
 * fit in blocks already allocated: on a full disk, the commit that cannot create a receipt can still make its
 * "not stored" durable. An append that fails is cut back durably (truncated and synced) before it is reported,
 * so a failed append leaves nothing a replay would find; when even that cannot be done, JournalInDoubtError.
 */
import { closeSync, fdatasync, ftruncateSync, openSync, readFileSync, unlinkSync, write } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger';
import { fsyncFd, removeIfThere, writeAllAt } from './durable';
import { decodeSegment, JOURNAL_MAGIC } from './journal-record';
import { layout, receiptFileName } from './paths';
import { fsyncPaths, syncFileSystem } from './sync-fs';

/** The largest segment; a batch larger than a segment's room extends it. */
export const SEGMENT_BYTES = 16 * 1024 * 1024;
/** The first segment's size. */
export const FIRST_SEGMENT_BYTES = 1024 * 1024;
/** How long a retired segment waits for its checkpoint. */
export const CHECKPOINT_DELAY_MS = 30_000;

/**
 * An append failed and could not be undone durably: its records may or may not be found by a replay after a
 * crash. `cause` is the append's failure.
 */
export class JournalInDoubtError extends Error {
  readonly code = 'ERR_JOURNAL_IN_DOUBT';
  constructor(cause: unknown, undo: unknown) {
    super(`journal append failed (${(cause as Error).message}) and could not be undone (${(undo as Error).message})`, {
      cause,
    });
  }
}

export interface JournalOptions {
  /** Largest segment (tests use tiny ones). */
  segmentBytes?: number;
  checkpointDelayMs?: number;
  /** `fsync` flushes file by file even where `sync -f` works (tests of that path). */
  flush?: 'syncfs' | 'fsync';
}

interface Segment {
  path: string;
  fd: number;
  /** Bytes durably written (the magic and whole records). */
  size: number;
  /** Bytes allocated (zeros after `size`). */
  capacity: number;
}

export class Journal {
  #seq = 0;
  #current: Segment | undefined;
  /** The next segment, being prepared. */
  #next: Promise<Segment> | undefined;
  #nextCapacity: number;
  /** Retired segments waiting for a checkpoint. */
  #retired: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #checkpoints: Promise<void> = Promise.resolve();
  /** Resolves true once the files the segments cover are written (./materialiser.ts); false keeps them. */
  #guard: (() => Promise<boolean>) | undefined;
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #delayMs: number;

  constructor(
    private readonly dataDir: string,
    private readonly serverId: string,
    private readonly log: Logger,
    private readonly options: JournalOptions = {},
  ) {
    this.#dir = layout(dataDir).journal;
    this.#segmentBytes = options.segmentBytes ?? SEGMENT_BYTES;
    this.#delayMs = options.checkpointDelayMs ?? CHECKPOINT_DELAY_MS;
    this.#nextCapacity = Math.min(FIRST_SEGMENT_BYTES, this.#segmentBytes);
  }

  /**
   * Appends `records` (encoded by ./journal-record.ts) and resolves once they are on disk, leaving at least
   * `reserve` bytes of allocated room after them in the same segment (for the records' aborts). One append at a
   * time: the store's batches are sequential. On failure nothing of the records is left for a replay to find,
   * or JournalInDoubtError says that this could not be made sure of.
   */
  async append(records: Buffer[], reserve = 0): Promise<void> {
    const bytes = records.length === 1 ? (records[0] as Buffer) : Buffer.concat(records);
    let segment = this.#current;
    if (
      segment === undefined ||
      (segment.size > JOURNAL_MAGIC.length && segment.size + bytes.length + reserve > segment.capacity)
    ) {
      segment = await this.#nextSegment();
    }
    try {
      writeAllAt(segment.fd, bytes, segment.size);
      await datasync(segment.fd);
      segment.size += bytes.length;
    } catch (err) {
      // Part of the batch may be in the file, and may reach the disk: cut it back to its whole records, durably,
      // so that a replay never finds records whose puts were refused. The next append starts a new segment.
      let undo: unknown;
      try {
        ftruncateSync(segment.fd, segment.size);
        await datasync(segment.fd);
      } catch (e) {
        undo = e;
      }
      this.#retire();
      throw undo === undefined ? err : new JournalInDoubtError(err, undo);
    }
    if (this.#next === undefined && segment.size > segment.capacity / 2) this.#next = this.#prepareAhead();
  }

  /** Prepares the next segment in the background; a failure is logged here and retried at the rotation. */
  #prepareAhead(): Promise<Segment> {
    const next = this.#prepare();
    next.catch((err: unknown) =>
      this.log.warn({ err }, 'could not prepare the next journal segment; trying again when it is needed'),
    );
    return next;
  }

  /** Checkpoints every segment, the current one included, and deletes them: for a clean stop. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#retire();
    const next = await this.#next?.catch(() => undefined);
    this.#next = undefined;
    if (next) {
      closeSync(next.fd);
      this.#retired.push(next.path);
    }
    await this.#checkpoint();
  }

  /**
   * Sets what a checkpoint waits for before it flushes: the files of the records it covers must be written (they
   * are written after the acknowledgement); when `guard` resolves false, the segments are kept for the next start.
   */
  setCheckpointGuard(guard: () => Promise<boolean>): void {
    this.#guard = guard;
  }

  /** Retires the current segment and makes the prepared one (or a new one) current. */
  async #nextSegment(): Promise<Segment> {
    this.#retire();
    const prepared = this.#next;
    this.#next = undefined;
    // A preparation that failed (a full disk, say) is tried once more now, and then fails the append.
    const segment = (await prepared?.catch(() => undefined)) ?? (await this.#prepare());
    this.#current = segment;
    return segment;
  }

  /** Creates the next segment durably: the magic, then zeros to its capacity, fsynced, its directory entry too. */
  async #prepare(): Promise<Segment> {
    this.#seq += 1;
    const capacity = this.#nextCapacity;
    this.#nextCapacity = Math.min(capacity * 2, this.#segmentBytes);
    const path = join(this.#dir, `${this.serverId}.${this.#seq}.log`);
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeAllAt(fd, JOURNAL_MAGIC, 0);
      const zeros = Buffer.alloc(Math.min(1024 * 1024, capacity));
      for (let at = JOURNAL_MAGIC.length; at < capacity; at += zeros.length) {
        await writeAsync(fd, zeros.subarray(0, Math.min(zeros.length, capacity - at)), at);
      }
      await Promise.all([fsyncFd(fd), fsyncPaths([this.#dir])]);
    } catch (err) {
      closeSync(fd);
      try {
        unlinkSync(path);
      } catch {
        // an unfinished segment is harmless: replay finds no record in it
      }
      throw err;
    }
    return { path, fd, size: JOURNAL_MAGIC.length, capacity: Math.max(capacity, JOURNAL_MAGIC.length) };
  }

  /** Closes the current segment and schedules its checkpoint. */
  #retire(): void {
    const segment = this.#current;
    if (segment === undefined) return;
    this.#current = undefined;
    try {
      closeSync(segment.fd);
    } catch {
      // nothing left to lose: its records are durable or were never acknowledged
    }
    this.#retired.push(segment.path);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#checkpoint();
      }, this.#delayMs);
      this.#timer.unref();
    }
  }

  /** Flushes what the retired segments cover, then deletes them. Checkpoints run one at a time. */
  #checkpoint(): Promise<void> {
    this.#checkpoints = this.#checkpoints.then(async () => {
      const segments = this.#retired.splice(0);
      if (segments.length === 0) return;
      if (this.#guard && !(await this.#guard())) {
        this.log.warn(
          { segments },
          'some acknowledged items’ files could not be written: their journal segments are kept and replayed at the next start',
        );
        this.#retired.unshift(...segments);
        return;
      }
      try {
        await flushCovered(this.dataDir, segments, this.options.flush ?? 'syncfs');
      } catch (err) {
        this.log.warn({ err }, 'journal checkpoint failed; its segments are kept and replayed at the next start');
        this.#retired.unshift(...segments);
        return;
      }
      for (const path of segments) {
        try {
          removeIfThere(path);
        } catch (err) {
          this.log.warn({ err, path }, 'could not delete a checkpointed journal segment; the next start replays it');
        }
      }
    });
    return this.#checkpoints;
  }
}

/**
 * Makes durable everything the `segments` cover: the whole file system at once with `syncfs`, or else each
 * item, plaintext and receipt their records name, and the directories holding them.
 */
export async function flushCovered(dataDir: string, segments: string[], flush: 'syncfs' | 'fsync'): Promise<void> {
  if (flush === 'syncfs' && (await syncFileSystem(dataDir))) return;
  const dirs = layout(dataDir);
  const paths = new Set<string>();
  for (const segment of segments) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(segment);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const { item } of decodeSegment(bytes).records) {
      for (const rel of [item.path, item.plaintextPath]) {
        if (rel === undefined) continue;
        paths.add(join(dataDir, rel));
        paths.add(join(dataDir, rel, '..'));
      }
      paths.add(join(dirs.receipts, receiptFileName(item.id)));
    }
  }
  paths.add(dirs.receipts);
  await fsyncPaths(paths);
}

/** fdatasync(2) on the thread pool. */
function datasync(fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Writes all of `bytes` at `position` on the thread pool (preparing a segment must not block the event loop). */
async function writeAsync(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    off += await new Promise<number>((resolve, reject) =>
      write(fd, bytes, off, bytes.length - off, position + off, (err, n) => (err ? reject(err) : resolve(n))),
    );
  }
}
