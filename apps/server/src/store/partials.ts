/**
 * Partials (docs/PROTOCOL.md §4 "Resuming", docs/SERVER.md "Resume"): what a cut file put on a connection that
 * negotiated `resume` keeps, under its put id, until a later put of the id continues it or `--partial-ttl` passes.
 *
 *   <data>/partials/<key>.owner              claimed: the server id of the process using the partial right now
 *   <data>/partials/<key>.json               the record: id, declared size and encryption, durable byte count, times
 *   <data>/partials/<serverId>.<n>.part      the bytes, named after the process that wrote them last
 *
 * `<key>` is the put id with `:` written `%3A` (as receipts are named). A partial is never an item: nothing here is
 * listed, answered or replayed; only this module reads `partials/`.
 *
 * Ownership across processes sharing the data directory: a process uses a partial only while it holds its claim,
 * the `.owner` file created exclusively (O_EXCL, as receipts are) and removed when the put ends. A claim whose
 * owner is dead (its server lock is free, ./liveness.ts: SIGKILL included) is taken over; one held by a live
 * other server is left alone, and the put goes on without a partial. Within a process, the newer put of an id wins:
 * the older one is ended (as if cut) first. Each writer writes its own bytes file (a takeover renames the file to
 * the new owner's name first), so whatever a race does, a file's bytes come from one writer, in order.
 */
import { createHash, type Hash } from 'node:crypto';
import { lstat, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Encryption } from '@proj/protocol';
import type { Logger } from '../logger';
import { readdirOrEmpty } from './cleanup';
import { mkdirDurable } from './durable';
import { changedAt, claim } from './partial-claims';
import { Owners } from './liveness';
import { serverIdOfTempName } from './paths';
import { readPrefix } from './partial-prefix';
import { idToKey, keyToId, parseRecord, type PartialRecord } from './partial-record';
import { isoTime } from '../iso-time';

export const PARTIALS_DIR = 'partials';
/** Default `--partial-ttl`: a day since the partial was last written (tusd's expiration is the model). */
export const DEFAULT_PARTIAL_TTL_MS = 24 * 3600_000;
/** Hash states kept in memory for in-process resumes (a SHA-256 state is a few hundred bytes). */
const MAX_CACHED_HASHES = 256;

/** What a put asks of its partial when it opens (docs/PROTOCOL.md §4, "Resuming"). */
export interface PartialRequest {
  id: string;
  /** `put_file.resume`: continue what is held, if it matches; false drops it and starts from zero. */
  continue: boolean;
  size: number | undefined;
  encryption: Encryption;
  /** Ends this put as if it were cut, when a newer put of the same id claims the partial in this process. */
  evict: () => void;
}

/** A partial this process holds the claim of, from the put's open to its end. */
export interface HeldPartial {
  readonly id: string;
  /** The bytes file: append from `offset`. */
  readonly path: string;
  /** Bytes held from an earlier put (0 when starting from zero). */
  readonly offset: number;
  /** The SHA-256 state of the first `offset` bytes, ready to take the next ones. */
  readonly hash: Hash;
  /** SHA-256 of the first `offset` bytes, hex; undefined when `offset` is 0. */
  readonly prefixSha256: string | undefined;
  /** The first bytes of the file (up to 64), to recognise an age header. */
  readonly head: Buffer;
  /** Records that the first `durable` bytes are fdatasynced (the caller synced them). */
  record(durable: number): Promise<void>;
  /** The put was cut: records `durable` bytes, keeps `hash` (the state of exactly those bytes) and lets go. */
  suspend(durable: number, hash: Hash | undefined): Promise<void>;
  /** The put is over without a partial (stored, cancelled, refused): removes what is left and lets go. */
  drop(): Promise<void>;
}

interface Active {
  evict: () => void;
  released: Promise<void>;
}

export class Partials {
  readonly dir: string;
  readonly #dataDir: string;
  readonly #serverId: string;
  readonly #log: Logger;
  readonly ttlMs: number;
  #counter = 0;
  /** Claims this process holds, by put id. */
  readonly #active = new Map<string, Active>();
  /** Bytes files held by puts of this process. */
  readonly #files = new Set<string>();
  /** Hash states of suspended partials, by bytes file (in insertion order, oldest first). */
  readonly #hashes = new Map<string, { bytes: number; hash: Hash }>();

  constructor(dataDir: string, serverId: string, log: Logger, ttlMs = DEFAULT_PARTIAL_TTL_MS) {
    this.dir = join(dataDir, PARTIALS_DIR);
    this.#dataDir = dataDir;
    this.#serverId = serverId;
    this.#log = log;
    this.ttlMs = ttlMs;
  }

  async init(): Promise<void> {
    await mkdirDurable(this.dir);
  }

  /**
   * Claims the partial of `req.id` for a put and opens what it continues from. Undefined when another live
   * server holds the claim: the put then goes on without a partial.
   */
  async hold(req: PartialRequest): Promise<HeldPartial | undefined> {
    const { id } = req;
    // The newer put wins: the older one of this process is ended as if cut, and its partial suspended.
    for (let active = this.#active.get(id); active; active = this.#active.get(id)) {
      this.#log.info({ id }, 'a newer put of this id resumes: ending the older one');
      active.evict();
      await active.released;
    }
    // Taken before the claim (no await in between): a sweep or another put of this process waits for it.
    let release!: () => void;
    this.#active.set(id, { evict: req.evict, released: new Promise<void>((r) => (release = r)) });
    let claimed = false;
    try {
      claimed = await this.#claim(id);
    } finally {
      if (!claimed) {
        this.#active.delete(id);
        release();
      }
    }
    if (!claimed) return undefined;
    const letGo = async (): Promise<void> => {
      try {
        await rm(this.#ownerPath(id), { force: true });
      } finally {
        this.#active.delete(id);
        release();
      }
    };
    try {
      return await this.#open(req, letGo);
    } catch (err) {
      await letGo();
      throw err;
    }
  }

  async #open(req: PartialRequest, letGo: () => Promise<void>): Promise<HeldPartial> {
    const { id } = req;
    const record = await this.#readRecord(id);
    let held: { path: string; offset: number; hash: Hash; head: Buffer } | undefined;
    if (record && req.continue && record.size === req.size && record.encryption === req.encryption) {
      held = await this.#continue(record);
    }
    if (!held && record) await this.#removeFiles(id, record.file);
    const createdAt = held && record ? record.createdAt : isoTime();
    if (!held) {
      const path = join(this.dir, this.#newFileName());
      await (await open(path, 'wx', 0o600)).close();
      held = { path, offset: 0, hash: createHash('sha256'), head: Buffer.alloc(0) };
    }
    const { path, offset, hash, head } = held;
    const file = path.slice(this.dir.length + 1);
    this.#files.add(file);
    const write = (durable: number): Promise<void> =>
      this.#writeRecord({
        id,
        ...(req.size !== undefined ? { size: req.size } : {}),
        encryption: req.encryption,
        file,
        durable,
        createdAt,
        touchedAt: isoTime(),
        owner: this.#serverId,
      });
    let ended = false;
    return {
      id,
      path,
      offset,
      hash,
      prefixSha256: offset > 0 ? hash.copy().digest('hex') : undefined,
      head,
      record: (durable) => (ended ? Promise.resolve() : write(durable)),
      suspend: async (durable, finalHash) => {
        if (ended) return;
        ended = true;
        try {
          await write(durable);
          if (finalHash) this.#keepHash(file, durable, finalHash);
        } finally {
          this.#files.delete(file);
          await letGo();
        }
      },
      drop: async () => {
        if (ended) return;
        ended = true;
        try {
          await this.#removeFiles(id, file);
        } finally {
          this.#files.delete(file);
          await letGo();
        }
      },
    };
  }

  /**
   * Opens a held record to continue it: its bytes file taken over under this process's name and cut back to the
   * durable count, and the hash of that prefix (kept from an earlier put of this process, else read back).
   * Undefined when the file is missing or shorter than the record says (the partial is then dropped).
   */
  async #continue(
    record: PartialRecord,
  ): Promise<{ path: string; offset: number; hash: Hash; head: Buffer } | undefined> {
    const from = join(this.dir, record.file);
    let size: number;
    try {
      size = (await lstat(from)).size;
    } catch {
      return undefined;
    }
    if (size < record.durable) {
      this.#log.warn({ id: record.id, size, durable: record.durable }, 'a partial is shorter than recorded: dropped');
      return undefined;
    }
    let path = from;
    if (serverIdOfTempName(record.file) !== this.#serverId) {
      path = join(this.dir, this.#newFileName());
      await rename(from, path);
    }
    const handle = await open(path, 'r+');
    try {
      await handle.truncate(record.durable);
    } finally {
      await handle.close();
    }
    const cached = this.#hashes.get(record.file);
    this.#hashes.delete(record.file);
    if (cached && cached.bytes === record.durable) {
      const head = await readPrefix(path, Math.min(64, record.durable));
      return { path, offset: record.durable, hash: cached.hash, head: head.head };
    }
    const { hash, head } = await readPrefix(path, record.durable);
    return { path, offset: record.durable, hash, head };
  }

  #keepHash(file: string, bytes: number, hash: Hash): void {
    this.#hashes.set(file, { bytes, hash });
    if (this.#hashes.size > MAX_CACHED_HASHES) {
      const oldest = this.#hashes.keys().next().value;
      if (oldest !== undefined) this.#hashes.delete(oldest);
    }
  }

  /** Takes the claim of `id` (./partial-claims.ts). */
  #claim(id: string, owners = new Owners(this.#dataDir, this.#serverId, this.#log)): Promise<boolean> {
    return claim(this.#ownerPath(id), {
      serverId: this.#serverId,
      isGone: (owner) => owners.isGone(owner),
      aside: (path) => `${path}.${this.#serverId}.${++this.#counter}.aside`,
      log: this.#log,
    });
  }

  /**
   * Removes expired partials (last written more than the TTL ago; those claimed by a live server are left alone),
   * bytes files no record names whose writer is gone (or, this process's and held by no put, older than the TTL),
   * and stale record temporaries of gone servers. Returns how many partials were removed.
   */
  async clean(now = Date.now()): Promise<number> {
    const owners = new Owners(this.#dataDir, this.#serverId, this.#log);
    const names = await readdirOrEmpty(this.dir);
    const referenced = new Set<string>();
    let removed = 0;
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const id = keyToId(name.slice(0, -'.json'.length));
      const record = await this.#readRecord(id);
      if (!record) continue;
      referenced.add(record.file);
      const touched = Date.parse(record.touchedAt);
      if (!(now - touched > this.ttlMs)) continue;
      if (this.#active.has(id)) continue;
      // Held like a put's claim: a put of this id in this process waits for the sweep to let go.
      let release!: () => void;
      this.#active.set(id, { evict: () => undefined, released: new Promise<void>((r) => (release = r)) });
      try {
        if (!(await this.#claim(id, owners))) continue;
        // Read again under the claim: a put may have continued it since.
        const current = await this.#readRecord(id);
        if (current && now - Date.parse(current.touchedAt) > this.ttlMs) {
          await this.#removeFiles(id, current.file);
          this.#hashes.delete(current.file);
          removed += 1;
          this.#log.info({ id, durable: current.durable }, 'removed an expired partial');
        }
        await rm(this.#ownerPath(id), { force: true });
      } finally {
        this.#active.delete(id);
        release();
      }
    }
    for (const name of names) {
      const full = join(this.dir, name);
      if (name.endsWith('.part') && !referenced.has(name)) {
        // A bytes file of a put under way may have no record yet: a live server's other than this one is its own
        // business; this process's is removed when no put holds it and it is old, a gone writer's at once.
        const writer = serverIdOfTempName(name);
        const mine = writer === this.#serverId;
        const gone = writer !== undefined && !mine && owners.isGone(writer);
        const old = (mine || writer === undefined) && !this.#files.has(name);
        if (gone || (old && now - (await changedAt(full)) > this.ttlMs)) await rm(full, { force: true });
      } else if (name.endsWith('.tmp') || name.endsWith('.aside')) {
        const writer = /\.([0-9a-f]{8}-\d+)\.\d+\.(?:tmp|aside)$/.exec(name)?.[1];
        if (writer !== undefined && writer !== this.#serverId && owners.isGone(writer)) await rm(full, { force: true });
      }
    }
    return removed;
  }

  #ownerPath(id: string): string {
    return join(this.dir, `${idToKey(id)}.owner`);
  }

  #recordPath(id: string): string {
    return join(this.dir, `${idToKey(id)}.json`);
  }

  /** A new bytes file name of this process, counted as held from now on (the sweep leaves it alone). */
  #newFileName(): string {
    this.#counter += 1;
    const name = `${this.#serverId}.${this.#counter}.part`;
    this.#files.add(name);
    return name;
  }

  async #readRecord(id: string): Promise<PartialRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.#recordPath(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const record = parseRecord(text);
    if (!record || record.id !== id) {
      this.#log.warn({ id }, 'a partial record does not parse: dropped');
      await rm(this.#recordPath(id), { force: true });
      return undefined;
    }
    return record;
  }

  /** Replaces the record: written beside it, fdatasynced, renamed over it. */
  async #writeRecord(record: PartialRecord): Promise<void> {
    const path = this.#recordPath(record.id);
    const temp = `${path}.${this.#serverId}.${++this.#counter}.tmp`;
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(record)}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  }

  async #removeFiles(id: string, file: string): Promise<void> {
    // The record first: a record without its bytes is dropped on read, bytes without a record are swept.
    await rm(this.#recordPath(id), { force: true });
    await rm(join(this.dir, file), { force: true });
  }
}
