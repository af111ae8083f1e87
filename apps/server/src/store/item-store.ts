/**
 * What a session asks of the storage it puts items in, and nothing of how it is kept: look up a put id, store a
 * dictionary, take a file's bytes through a sink, read a stored item back. The data directory (./store.ts)
 * implements it; nothing here names a directory or a temporary, so another kind of storage can stand behind the
 * same session (modelled on tusd's DataStore and Upload).
 */
import type { StoredItem } from './receipts';

export interface CommitResult {
  item: StoredItem;
  /** True when another put of this id was stored first: this one stored nothing and `item` is the first. */
  duplicate: boolean;
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
