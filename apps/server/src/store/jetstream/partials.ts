/**
 * Partials in the cluster (docs/SCALE-OUT.md, "Resume on the cluster"; docs/PROTOCOL.md §4, "Resuming"): what a
 * cut file put on a resume connection keeps, so that a later put of its id continues it on ANY server sharing the
 * cluster. The bytes stay where the sink wrote them, as whole acknowledged (so replicated) chunks on the object
 * store's chunk subject `$O.<bucket>.C.<nuid>`; one entry of the KV bucket `proj_partials` per put id (key:
 * ./names.ts keyOfId) says what they are (PartialRecord).
 *
 * Ownership: an entry names the sink using it (`owner`) while a put writes to it, and the owner touches it at
 * least every RECORD_MS while bytes come in. Every change is a KV `update` on the revision last seen, so of two
 * servers only one claims a partial, and an owner whose partial was taken over learns it at its next write
 * (fenced: its put fails, nothing mixed is stored). An owner that has not touched its entry for LEASE_MS is gone
 * (its server died, or its client stalled) and the partial may be claimed; one touched more recently belongs to a
 * live put on another server and is left alone (the new put starts from zero without a partial). Within one
 * process the newer put of an id wins: the older one is ended as if cut, then the newer one claims the partial.
 *
 * A sink that continues a partial needs the SHA-256 of its bytes: the same process keeps the hash state of the
 * partials it suspended (a Node Hash cannot be stored); another server reads the chunks back by Direct Get and
 * hashes them, which also checks them against the SHA-256 recorded at the cut.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Encryption } from '@proj/protocol';
import { StorageError } from '@proj/protocol';
import type { Logger } from '../../logger';
import type { JsConnection } from './connection';
import { idOfKey, keyOfId, PARTIALS_BUCKET } from './names';
import { chunkSubject, purgeObject } from './objects';
import { countOn, readBack, trimChunks } from './partial-chunks';
import { isWrongSequence, type PartialRecord, parsePartial, readPartialEntry } from './partial-record';
import { retry } from './retry';

/** Default `--partial-ttl`, as the local store's. */
export const DEFAULT_PARTIAL_TTL_MS = 24 * 3600_000;
/** An owner touches its entry at least this often while bytes come in... */
export const RECORD_MS = 1000;
/** ...and is gone when it has not for this long. */
export const LEASE_MS = 10_000;
/** Hash states of suspended partials kept in memory for resumes in this process. */
const MAX_CACHED_HASHES = 256;

/** What a put asks of its partial (../item-store.ts ResumeRequest, with the id and declared size). */
export interface PartialRequest {
  id: string;
  continue: boolean;
  size: number | undefined;
  encryption: Encryption;
  evict: () => void;
}

/** Where a sink holding a partial stands: whole acknowledged chunks from the file's first byte. */
export interface PartialProgress {
  chunks: number;
  durable: number;
  lastSeq: number;
  head: Buffer;
}

/** A partial a sink holds the claim of, from its open to its end. */
export interface HeldPartial {
  readonly nuid: string;
  /** What it continues from (all 0 and an empty hash when starting from zero). */
  readonly chunks: number;
  readonly offset: number;
  readonly lastSeq: number;
  readonly hash: Hash;
  readonly prefixSha256: string | undefined;
  readonly head: Buffer;
  /** Records progress; throws PartialLostError when another server took the partial over. */
  record(progress: PartialProgress): Promise<void>;
  /** The put was cut: records what is held (and keeps `hash`, the state of exactly those bytes) and lets go. */
  suspend(progress: PartialProgress, hash: Hash | undefined): Promise<void>;
  /** The put is being stored: the entry goes (the chunks become the object's); throws PartialLostError. */
  release(): Promise<void>;
  /** The put is over without a partial: the entry and the chunks go. */
  drop(): Promise<void>;
}

/** The partial was claimed by another server while this put wrote to it. */
export class PartialLostError extends StorageError {
  constructor(id: string) {
    super(`the partial of ${id} was taken over by another put`);
  }
}

/** What a held partial starts from. */
interface Base {
  chunks: number;
  offset: number;
  lastSeq: number;
  hash: Hash;
  head: Buffer;
}

interface Active {
  evict: () => void;
  released: Promise<void>;
}

export class JsPartials {
  readonly #conn: JsConnection;
  readonly #log: Logger;
  readonly ttlMs: number;
  readonly #leaseMs: number;
  readonly #active = new Map<string, Active>();
  /** Hash states of partials suspended here, by `<nuid>/<lastSeq>` (oldest first). */
  readonly #hashes = new Map<string, Hash>();

  constructor(conn: JsConnection, log: Logger, ttlMs = DEFAULT_PARTIAL_TTL_MS, leaseMs = LEASE_MS) {
    this.#conn = conn;
    this.#log = log;
    this.ttlMs = ttlMs;
    this.#leaseMs = leaseMs;
  }

  /**
   * Claims the partial of `req.id` for a sink (`owner`, unique to it), continuing it when asked and it matches,
   * or starting a new one under `nuid`. Undefined when a live put on another server holds it.
   */
  async hold(req: PartialRequest, owner: string, nuid: string): Promise<HeldPartial | undefined> {
    const { id } = req;
    for (let active = this.#active.get(id); active; active = this.#active.get(id)) {
      this.#log.info({ id }, 'a newer put of this id resumes: ending the older one');
      active.evict();
      await active.released;
    }
    let release!: () => void;
    this.#active.set(id, { evict: req.evict, released: new Promise<void>((r) => (release = r)) });
    const letGo = (): void => {
      this.#active.delete(id);
      release();
    };
    try {
      const held = await this.#claim(req, owner, nuid, letGo);
      if (held === undefined) letGo();
      return held;
    } catch (err) {
      letGo();
      throw err;
    }
  }

  async #claim(req: PartialRequest, owner: string, nuid: string, letGo: () => void): Promise<HeldPartial | undefined> {
    const conn = this.#conn;
    const key = keyOfId(req.id);
    const entry = await readPartialEntry(conn, key);
    const found = entry?.operation === 'PUT' ? parsePartial(entry.value) : undefined;
    if (found?.owner !== undefined && Date.now() - (entry as { created: Date }).created.getTime() < this.#leaseMs) {
      this.#log.info({ id: req.id }, 'the partial of this id is in use on another server: starting from zero');
      return undefined;
    }
    const now = new Date().toISOString();
    const matches =
      found !== undefined && req.continue && found.size === req.size && found.encryption === req.encryption;
    let record: PartialRecord = matches
      ? { ...found, touchedAt: now, owner }
      : {
          id: req.id,
          ...(req.size !== undefined ? { size: req.size } : {}),
          encryption: req.encryption,
          nuid,
          chunks: 0,
          durable: 0,
          lastSeq: 0,
          head: '',
          createdAt: now,
          touchedAt: now,
          owner,
        };
    let revision: number;
    try {
      revision = await this.#write(key, record, entry === null ? undefined : entry.revision);
    } catch (err) {
      if (isWrongSequence(err)) return undefined;
      throw err;
    }
    // A partial not continued goes (it was claimed first, so no other server continues it meanwhile).
    if (found !== undefined && !matches) await this.#purgeChunks(found.nuid);
    let base: Base = { chunks: 0, offset: 0, lastSeq: 0, hash: createHash('sha256'), head: Buffer.alloc(0) };
    if (matches) {
      const continued = await this.#prefix(record).catch((err: unknown) => {
        this.#log.warn(
          { id: req.id, err: (err as Error).message },
          'a partial cannot be read back: starting from zero',
        );
        return undefined;
      });
      if (continued) base = continued;
      else {
        await this.#purgeChunks(record.nuid);
        record = { ...record, nuid, chunks: 0, durable: 0, lastSeq: 0, head: '', createdAt: now };
        delete record.sha256;
        revision = await this.#write(key, record, revision);
      }
    }
    return this.#held(key, record, revision, base, letGo);
  }

  #held(key: string, start: PartialRecord, startRevision: number, base: Base, letGo: () => void): HeldPartial {
    let record = start;
    let revision = startRevision;
    let ended = false;
    const write = async (progress: PartialProgress, owned: boolean, sha256?: string): Promise<void> => {
      const next: PartialRecord = {
        ...record,
        chunks: progress.chunks,
        durable: progress.durable,
        lastSeq: progress.lastSeq,
        head: progress.head.toString('base64'),
        touchedAt: new Date().toISOString(),
      };
      if (sha256 !== undefined) next.sha256 = sha256;
      else delete next.sha256;
      if (!owned) delete next.owner;
      try {
        revision = await this.#write(key, next, revision);
      } catch (err) {
        if (isWrongSequence(err)) throw new PartialLostError(record.id);
        throw err;
      }
      record = next;
    };
    const end = (): boolean => {
      if (ended) return false;
      ended = true;
      return true;
    };
    return {
      nuid: record.nuid,
      ...base,
      prefixSha256: base.offset > 0 ? base.hash.copy().digest('hex') : undefined,
      record: (progress) => (ended ? Promise.resolve() : write(progress, true)),
      suspend: async (progress, hash) => {
        if (!end()) return;
        try {
          const sha256 = hash?.copy().digest('hex');
          await write(progress, false, sha256);
          if (hash) this.#keepHash(`${record.nuid}/${progress.lastSeq}`, hash);
        } finally {
          letGo();
        }
      },
      release: async () => {
        if (!end()) return;
        try {
          await this.#delete(key, revision, record.id);
        } finally {
          letGo();
        }
      },
      drop: async () => {
        if (!end()) return;
        try {
          try {
            await this.#delete(key, revision, record.id);
          } catch (err) {
            // Chunks of a partial another put took over are its own now.
            if (err instanceof PartialLostError) return;
            throw err;
          }
          await this.#purgeChunks(record.nuid);
        } catch (err) {
          this.#log.warn({ id: record.id, err: (err as Error).message }, 'could not remove a partial; cleanup will');
        } finally {
          letGo();
        }
      },
    };
  }

  /** Creates (revision undefined) or updates the entry; a retry whose first answer was lost finds its value. */
  async #write(key: string, record: PartialRecord, revision: number | undefined): Promise<number> {
    const conn = this.#conn;
    const value = Buffer.from(JSON.stringify(record), 'utf8');
    let attempts = 0;
    try {
      return await retry(
        'partial record',
        () => {
          attempts += 1;
          return revision === undefined ? conn.partials.create(key, value) : conn.partials.update(key, value, revision);
        },
        conn.deadline,
      );
    } catch (err) {
      if (!isWrongSequence(err) || attempts < 2) throw err;
      const now = await readPartialEntry(conn, key);
      if (now?.operation === 'PUT' && Buffer.from(now.value).equals(value)) return now.revision;
      throw err;
    }
  }

  async #delete(key: string, revision: number, id: string): Promise<void> {
    const conn = this.#conn;
    try {
      await retry('partial removal', () => conn.partials.delete(key, { previousSeq: revision }), conn.deadline);
    } catch (err) {
      if (!isWrongSequence(err)) throw err;
      const now = await readPartialEntry(conn, key);
      // A retry whose first answer was lost finds the entry deleted; anything else is another put's.
      if (now !== null && now.operation === 'PUT') throw new PartialLostError(id);
    }
  }

  async #purgeChunks(nuid: string): Promise<void> {
    await purgeObject(this.#conn, nuid, undefined);
  }

  #keepHash(key: string, hash: Hash): void {
    this.#hashes.delete(key);
    this.#hashes.set(key, hash);
    while (this.#hashes.size > MAX_CACHED_HASHES) this.#hashes.delete(this.#hashes.keys().next().value as string);
  }

  /**
   * What a continued partial starts from: its chunks must be exactly the recorded ones, and their SHA-256 comes
   * from the state kept in this process or from reading them back (checked against the recorded one).
   */
  async #prefix(record: PartialRecord): Promise<Base | undefined> {
    const conn = this.#conn;
    const subject = chunkSubject(conn, record.nuid);
    const count = await countOn(conn, subject);
    if (count < record.chunks) throw new StorageError(`${count} chunks where ${record.chunks} were recorded`);
    // Chunks past the recorded ones (acknowledged after the last record, before a crash) are not the partial's.
    let hash = this.#hashes.get(`${record.nuid}/${record.lastSeq}`)?.copy();
    let head: Buffer = Buffer.from(record.head, 'base64');
    if (count > record.chunks || hash === undefined) {
      const read = await readBack(this.#conn, record);
      hash = read.hash;
      head = read.head;
      if (count > record.chunks) await trimChunks(this.#conn, record, read.seqs);
    }
    this.#hashes.delete(`${record.nuid}/${record.lastSeq}`);
    if (record.chunks === 0) return undefined;
    return { chunks: record.chunks, offset: record.durable, lastSeq: record.lastSeq, hash, head };
  }

  /**
   * Removes partials not written for longer than the TTL (their entry, then their chunks) and returns the nuids of
   * the others, whose chunks orphan cleanup keeps.
   */
  async clean(now = Date.now()): Promise<{ removed: number; kept: Set<string> }> {
    const conn = this.#conn;
    const stream = `KV_${PARTIALS_BUCKET}`;
    const prefix = `$KV.${PARTIALS_BUCKET}.`;
    const info = await retry(
      'partial list',
      () => conn.jsm.streams.info(stream, { subjects_filter: `${prefix}>` }),
      conn.deadline,
    );
    const kept = new Set<string>();
    let removed = 0;
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const key = subject.slice(prefix.length);
      const id = idOfKey(key);
      const entry = await readPartialEntry(conn, key);
      if (entry === null || entry.operation !== 'PUT') continue;
      const record = parsePartial(entry.value);
      // A partial a put of this process holds is never removed under it.
      if (now - entry.created.getTime() <= this.ttlMs || (id !== undefined && this.#active.has(id))) {
        if (record) kept.add(record.nuid);
        continue;
      }
      try {
        await this.#delete(key, entry.revision, id ?? key);
      } catch (err) {
        if (err instanceof PartialLostError) continue;
        throw err;
      }
      if (record) await this.#purgeChunks(record.nuid);
      removed += 1;
      this.#log.info({ id: id ?? key, bytes: record?.durable }, 'removed a partial older than --partial-ttl');
    }
    return { removed, kept };
  }
}
