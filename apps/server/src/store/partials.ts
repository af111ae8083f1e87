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
import { lstat, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Encryption } from '@proj/protocol';
import type { Logger } from '../logger';
import { readdirOrEmpty } from './cleanup';
import { mkdirDurable } from './durable';
import { Owners } from './liveness';
import { serverIdOfTempName } from './paths';
import { readPrefix } from './partial-prefix';

export const PARTIALS_DIR = 'partials';
/** Default `--partial-ttl`: a day since the partial was last written (tusd's expiration is the model). */
export const DEFAULT_PARTIAL_TTL_MS = 24 * 3600_000;
/** Hash states kept in memory for in-process resumes (a SHA-256 state is a few hundred bytes). */
const MAX_CACHED_HASHES = 256;

/** What `<key>.json` holds. */
export interface PartialRecord {
  id: string;
  /** The size the put declared, if it declared one; a resume must declare the same. */
  size?: number;
  /** The encryption the put declared; a resume must declare the same. */
  encryption: Encryption;
  /** The bytes file, in `partials/`. */
  file: string;
  /** Bytes of `file` fdatasynced before this record was written: what a resume continues from. */
  durable: number;
  createdAt: string;
  touchedAt: string;
  /** The server that wrote this record. */
  owner: string;
}

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
    if (!(await this.#claim(id))) return undefined;
    let release!: () => void;
    this.#active.set(id, { evict: req.evict, released: new Promise<void>((r) => (release = r)) });
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
    const createdAt = held && record ? record.createdAt : new Date().toISOString();
    if (!held) {
      const path = join(this.dir, this.#newFileName());
      await (await open(path, 'wx', 0o600)).close();
      held = { path, offset: 0, hash: createHash('sha256'), head: Buffer.alloc(0) };
    }
    const { path, offset, hash, head } = held;
    const file = path.slice(this.dir.length + 1);
    const write = (durable: number): Promise<void> =>
      this.#writeRecord({
        id,
        ...(req.size !== undefined ? { size: req.size } : {}),
        encryption: req.encryption,
        file,
        durable,
        createdAt,
        touchedAt: new Date().toISOString(),
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
          await letGo();
        }
      },
      drop: async () => {
        if (ended) return;
        ended = true;
        try {
          await this.#removeFiles(id, file);
        } finally {
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

  /**
   * Takes the claim of `id`: creates `<key>.owner` exclusively; a claim left by a dead server (or by this process,
   * outside any put) is taken over. False when another live server holds it.
   */
  async #claim(id: string, owners = new Owners(this.#dataDir, this.#serverId, this.#log)): Promise<boolean> {
    const path = this.#ownerPath(id);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(path, this.#serverId, { flag: 'wx', mode: 0o600 });
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = (await readFile(path, 'utf8').catch(() => '')).trim();
      // An empty claim is one being written this instant, or cut short by a crash: try again, then count it alive.
      if (owner === '') continue;
      if (owner !== this.#serverId && !owners.isGone(owner)) return false;
      if (!(await this.#takeOver(path, owner))) return false;
    }
    return false;
  }

  /**
   * Removes the claim at `path` that `owner` (dead, or this process outside any put) left. It is renamed aside
   * first and checked: if another server took it over in between (the name then holds a live claim), it is put
   * back. False when the claim could not be put back (the caller then leaves the partial alone).
   */
  async #takeOver(path: string, owner: string): Promise<boolean> {
    const aside = `${path}.${this.#serverId}.${++this.#counter}.aside`;
    try {
      await rename(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true; // gone meanwhile: claim again
      throw err;
    }
    const moved = (await readFile(aside, 'utf8').catch(() => '')).trim();
    if (moved === owner) {
      await rm(aside, { force: true });
      this.#log.info({ claim: path, owner }, 'took over the partial of a stopped server');
      return true;
    }
    // Someone's live claim: restore it (link fails only when yet another server claimed meanwhile).
    try {
      await rename(aside, path);
    } catch {
      await rm(aside, { force: true });
    }
    return false;
  }

  /**
   * Removes expired partials (last written more than the TTL ago), and bytes files and claims that no record
   * points to whose writer is gone. Partials claimed by a live server are left alone. Returns how many partials
   * were removed.
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
      if (!(now - touched > this.ttlMs) || this.#active.has(id)) continue;
      if (!(await this.#claim(id, owners))) continue;
      try {
        // Read again under the claim: a put may have continued it since.
        const current = await this.#readRecord(id);
        if (current && now - Date.parse(current.touchedAt) > this.ttlMs) {
          await this.#removeFiles(id, current.file);
          this.#hashes.delete(current.file);
          removed += 1;
          this.#log.info({ id, durable: current.durable }, 'removed an expired partial');
        }
      } finally {
        await rm(this.#ownerPath(id), { force: true });
      }
    }
    for (const name of names) {
      const full = join(this.dir, name);
      if (name.endsWith('.part') && !referenced.has(name)) {
        // A bytes file of a put under way has no record yet: only a gone writer's, or an old one, is removed.
        const writer = serverIdOfTempName(name);
        const old = now - (await changedAt(full)) > this.ttlMs;
        const gone = writer !== undefined && writer !== this.#serverId && owners.isGone(writer);
        if (gone || old) await rm(full, { force: true });
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

  #newFileName(): string {
    this.#counter += 1;
    return `${this.#serverId}.${this.#counter}.part`;
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

function idToKey(id: string): string {
  return id.replace(/:/g, '%3A');
}

function keyToId(key: string): string {
  return key.replace(/%3A/g, ':');
}

function parseRecord(text: string): PartialRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<PartialRecord>;
    const intOk = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
    if (typeof r.id !== 'string' || typeof r.file !== 'string' || !/^[0-9a-f]{8}-\d+\.\d+\.part$/.test(r.file)) {
      return undefined;
    }
    if (!intOk(r.durable) || (r.size !== undefined && !intOk(r.size))) return undefined;
    if (r.encryption !== 'none' && r.encryption !== 'age') return undefined;
    if (typeof r.createdAt !== 'string' || typeof r.touchedAt !== 'string' || typeof r.owner !== 'string') {
      return undefined;
    }
    return r as PartialRecord;
  } catch {
    return undefined;
  }
}

async function changedAt(path: string): Promise<number> {
  try {
    const st = await lstat(path);
    return Math.max(st.mtimeMs, st.ctimeMs);
  } catch {
    return Date.now();
  }
}
