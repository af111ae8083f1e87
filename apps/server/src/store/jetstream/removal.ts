/**
 * Removing a stored item from the cluster for good (`server rm`, `server prune`; docs/SERVER.md §4), safely while
 * servers use it, with the local store's promise (../removal.ts):
 * 1. the receipt entry is deleted, if it still names this item (./receipts.ts deleteReceipt, a compare-and-delete):
 *    from now on the put id is free, and every server answers the next put of it by storing it anew (servers read
 *    receipts from the bucket on each put, without a cache). A dictionary lives inside its receipt entry, so it
 *    goes with it;
 * 2. a file's object is purged, chunks then meta. A crash between 1 and 2 leaves an object no receipt names, which
 *    the orphan cleanup (./cleanup.ts) removes after its age, as it removes what a crashed put left.
 * The other order would leave, for a while, a receipt whose bytes are gone: an acknowledged item that is broken.
 * There is no journal to replay here (the receipt entry is the commit), so no tombstone is needed.
 */
import type { RemoveOutcome } from '../item-store';
import type { StoredItem } from '../receipts';
import type { JsConnection } from './connection';
import { parseItemPath } from './names';
import { purgeObject, readObjectMeta } from './objects';
import { deleteReceipt } from './receipts';

/** Removes `item` (as its receipt named it when read) by the steps above. */
export async function removeStoredItem(conn: JsConnection, item: StoredItem): Promise<RemoveOutcome> {
  const deleted = await deleteReceipt(conn, item);
  // Once no receipt names the object, none ever will (a put stores under a name unique to its attempt): it goes
  // now even when another removal deleted the receipt first and stopped before this step.
  const named = parseItemPath(item.path);
  if (named?.kind === 'file') {
    const meta = await readObjectMeta(conn, named.object);
    if (meta !== undefined) await purgeObject(conn, meta.nuid, meta.name);
  }
  return deleted ? 'removed' : 'gone';
}

/** Whether the item's bytes are in the cluster: a dictionary's are in its receipt entry, a file's object has a meta. */
export async function isStored(conn: JsConnection, item: StoredItem): Promise<boolean> {
  const named = parseItemPath(item.path);
  if (named === undefined) return false;
  if (named.kind === 'dict') return true;
  return (await readObjectMeta(conn, named.object)) !== undefined;
}
