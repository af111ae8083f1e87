/**
 * What a session and the operator's commands ask of the storage items are put in, and nothing of how it is kept:
 * look up a put id, store a dictionary, take a file's bytes through a sink, read a stored item back, list what
 * was received, remove an item. Two kinds stand behind it: the data directory (./store.ts; the operator's
 * commands read and remove through ./local-catalog.ts) and a NATS JetStream cluster (./jetstream/jetstream-store.ts);
 * ./open-store.ts picks one from the `--store` setting. Nothing here names a directory or a temporary (modelled on tusd's DataStore and
 * Upload).
 */
import type { Readable, Transform } from 'node:stream';
import type { DictFormat, Encryption, StorageError } from '@proj/protocol';
import type { InputBudget } from '../input-budget';
import type { StoredItem } from './receipts';

/** What every store gives: the received items, listed. */
export interface ItemListing {
  /** Where the items are, for people: the data directory, or the `nats://` address. */
  readonly where: string;
  /**
   * Every item with a readable receipt, oldest first, and every receipt that cannot be read (its id was
   * acknowledged: what may be its item is kept and named).
   */
  list(): Promise<ItemList>;
  /** Gives up what the store holds (its lock, its connection) once nothing is pending. */
  close(): Promise<void>;
}

/**
 * What the operator's commands (`list`, `show`, `cat`, `rm`, `prune`; docs/SERVER.md §4) use, the same on either
 * store: the items listed, one found by its put id, its bytes read back, and an item removed for good.
 */
export interface ItemCatalog extends ItemListing, ItemReader {
  /** The item stored under put id `id` (exactly), or undefined. A receipt that cannot be read throws. */
  find(id: string): Promise<StoredItem | undefined>;
  /** Whether the item's bytes are still there (an item whose file was deleted by hand is not). */
  present(item: StoredItem): Promise<boolean>;
  /**
   * Removes `item` (as its receipt named it when read) for good: its receipt first, if it still names this item
   * (from then on a put of its id is stored anew), then its bytes. A crash between the two leaves bytes that no
   * receipt names, which the store collects as it collects what a crashed put left.
   */
  remove(item: StoredItem): Promise<RemoveOutcome>;
}

/** `removed`: receipt and item gone now; `gone`: the receipt no longer named this item (removed meanwhile). */
export type RemoveOutcome = 'removed' | 'gone';

export interface ItemList {
  items: StoredItem[];
  damaged: DamagedReceiptInfo[];
}

/** A receipt that cannot be read as the receipt of its id. */
export interface DamagedReceiptInfo {
  id: string;
  /** Where the receipt is: a file's absolute path, or `kv:<bucket>/<key>`. */
  receipt: string;
  problem: string;
  /** Stored items that may be its (paths). */
  candidates: string[];
}

export interface ItemStore extends ItemReader, ItemListing {
  /** The item stored under `id`, if any: a put of that id is answered with its first receipt. */
  findReceipt(id: string): Promise<StoredItem | undefined>;
  /** Stores a dictionary's bytes (decoded and checked already); resolves once it is durable. */
  storeDict(dict: DictToStore): Promise<CommitResult>;
  /**
   * Opens a sink for a file put's bytes, once its first write buffer is taken from the input budget (waiting for
   * it in turn). Throws ERR_STORAGE when the sink cannot be made.
   */
  openFileSink(options: FileSinkOptions): Promise<FileSink>;
}

/** Reads stored items back (the screen shows their head). `path` is the item's, as its receipt names it. */
export interface ItemReader {
  /** The first `maxBytes` bytes of a stored item, and whether it holds more. */
  readHead(path: string, maxBytes: number): Promise<{ head: Buffer; more: boolean }>;
  /** A stored item's bytes as a stream, read in pieces of `highWaterMark` bytes. */
  openReader(path: string, highWaterMark: number): Readable;
}

export interface DictToStore {
  id: string;
  format: DictFormat;
  /** The dictionary as the client encoded it, stored as it is. */
  data: Buffer;
  sender: string;
}

export interface FileSinkOptions {
  id: string;
  /** The file's size when the client announced it: no write buffer is larger than what is left of it. */
  size: number | undefined;
  /** Memory for the bytes on their way to the disk, shared with every other put. */
  budget: InputBudget;
  /** Aborted when the connection ends: a sink waiting for the budget stops waiting (rejects with its reason). */
  signal: AbortSignal;
  /**
   * Given on a connection that negotiated `resume` (docs/PROTOCOL.md §4, "Resuming"): the sink keeps its bytes as
   * a partial of `id` that `suspend()` leaves for a later put. A store without partials ignores it (offset 0).
   */
  resume?: ResumeRequest;
}

/** What a put on a resume connection asks of its sink. */
export interface ResumeRequest {
  /**
   * `put_file.resume`: continue the partial held for this id when its declared size (`FileSinkOptions.size`) and
   * encryption equal this put's; otherwise, and when false, the partial is dropped and the put starts from zero.
   */
  continue: boolean;
  /** The encryption this put declares. */
  encryption: Encryption;
  /**
   * Called when a newer put of the same id claims the partial while this one still holds it (a client that
   * reconnected before the server saw its old socket die): end this put as if cut, so that its sink is
   * suspended and the newer one continues from it.
   */
  evict: () => void;
}

/**
 * A file put's bytes on their way into the store, from the first byte to the commit or the discard. The bytes
 * are counted and hashed as they come; at most a window of them is held in memory.
 */
export interface FileSink {
  /** Bytes of the file taken so far, from its first byte (those of a continued partial included). */
  readonly received: number;
  /** Where the client sends from: the bytes of a continued partial (0 unless resuming). */
  readonly offset: number;
  /** SHA-256 (hex) of the first `offset` bytes as the store holds them; undefined when `offset` is 0. */
  readonly offsetSha256: string | undefined;
  /** The write that failed, as the error to answer the put with; undefined while every write went through. */
  readonly failure: StorageError | undefined;
  /**
   * Takes the next bytes of the file. Returns a promise when the caller must wait before it hands over more (no
   * buffer in the input budget, or the window of writes in flight is full); it rejects only with the signal's
   * reason. A write that fails shows in `failure` (the next bytes are not written).
   */
  write(payload: Buffer): Promise<void> | void;
  /** The SHA-256 of the whole file (a continued partial's bytes first), in hex; once they are all in. */
  sha256(): string;
  /**
   * True when the bytes taken begin as an age file does (docs/PROTOCOL.md §4, what an age file is: the binary
   * header line, or the armor line after optional whitespace, within the first 64 bytes).
   */
  readonly isAge: boolean;
  /**
   * Stores the file: finishes its writes and makes them durable, keeps the plaintext of an age file beside it
   * when asked, then commits it (resolves once it is durable). Throws ERR_STORAGE when it cannot be stored; the
   * sink is finished either way.
   */
  commit(meta: FileMeta): Promise<FileCommitResult>;
  /** Ends the put without storing anything: waits for the writes in flight, then removes what was written. */
  discard(): Promise<void>;
  /**
   * Ends a put that was cut (connection closed, timed out, server stopping) without storing it: on a resume
   * connection, its bytes are made durable and kept as the id's partial; otherwise the same as `discard()`.
   */
  suspend(): Promise<void>;
}

export interface FileMeta {
  /** The client's file name as sent. */
  name: string;
  /** The client's name made safe (../store/paths.ts cleanName): the stored name is made of it. */
  cleanedName: string;
  /**
   * What the client said the bytes are. The store records what they are (an age file or not); the session has
   * refused `age` for bytes that are not one (ERR_ENCRYPTION_MISMATCH), and `none` for an age file is stored as
   * the age file it is.
   */
  declared: Encryption;
  sender: string;
  /**
   * Given when the server keeps the plaintext of age files: makes the stream that decrypts one. A file that does
   * not decrypt is stored as it is (`decryptFailure` says why).
   */
  decrypt?: () => Transform;
}

export interface CommitResult {
  item: StoredItem;
  /** True when another put of this id was stored first: this one stored nothing and `item` is the first. */
  duplicate: boolean;
}

export interface FileCommitResult extends CommitResult {
  /** The code of the error that kept an age file from being decrypted (only when `decrypt` was given). */
  decryptFailure?: string;
}

/**
 * A commit failed at a point where the item may or may not come back after a crash (its journal record is
 * durable and withdrawing it failed too). Not a protocol error: the session must not answer ERR_STORAGE
 * ("nothing stored"); the honest answer is none (close the connection: the client retries with the same id).
 */
export class StorageInDoubtError extends Error {
  readonly code = 'ERR_STORAGE_IN_DOUBT';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
