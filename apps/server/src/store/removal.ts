/**
 * Removing a stored item from the data directory for good (`server rm`, `server prune` through ./local-catalog.ts;
 * docs/SERVER.md §4), safely while servers run on the same data directory. The JetStream store keeps the same
 * promise with its own steps (./jetstream/removal.ts).
 *
 * Steps, each made durable before the next:
 * 1. a *tombstone* `removed/<day>_<file name>` for the item (and its saved plaintext): a journal segment of the
 *    server that stored it may still hold the item's record, and a replay after that server crashed would put a
 *    dictionary back (its bytes are in the record). Replay skips a record whose item has a tombstone
 *    (./recovery.ts);
 * 2. the receipt is unlinked, if it still names this item: from now on the put id is free. Servers read the
 *    receipts directory on each put (no cache), so every server on the directory answers the next put of that id
 *    by storing it anew, never with the old receipt;
 * 3. the item (and its plaintext) is unlinked. A crash between 2 and 3 leaves an item no receipt names: the next
 *    start removes it as unacknowledged (./cleanup.ts).
 * A tombstone is kept while the journal holds a segment of the server that stored the item (the record may be in
 * it), and dropped afterwards by the next removal.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createFile, fsyncDir, mkdirDurable, removeIfThere } from './durable';
import type { RemoveOutcome } from './item-store';
import { ITEMS_DIR, layout, receiptFileName, serverIdOfItemName, serverIdOfTempName } from './paths';
import { readReceipt, type StoredItem } from './receipts';

export const REMOVED_DIR = 'removed';

/** `items/2026-12-03/120000-…-notes.txt` → `2026-12-03_120000-…-notes.txt`. */
function tombstoneName(itemPath: string): string {
  return itemPath.slice(ITEMS_DIR.length + 1).replace('/', '_');
}

/** What a tombstone holds: enough to tell the removed item from a later one that took the same name. */
function tombstoneText(item: StoredItem): string {
  return `${JSON.stringify({ id: item.id, sha256: item.sha256, receivedAt: item.receivedAt })}\n`;
}

/**
 * True when `item` (a journal record's) was removed: a replay must not bring it back. The same server may store
 * the same id under the same name again within the second (the same path): that item is not the removed one.
 */
export function isRemoved(dataDir: string, item: StoredItem): boolean {
  let text: string;
  try {
    text = readFileSync(join(dataDir, REMOVED_DIR, tombstoneName(item.path)), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const t = JSON.parse(text) as Partial<StoredItem>;
    return t.id === item.id && t.sha256 === item.sha256 && t.receivedAt === item.receivedAt;
  } catch {
    // Torn while written: that removal stopped before it unlinked anything (each step is durable before the
    // next), so the item is still acknowledged and the replay restores what it can.
    return false;
  }
}

/** Removes `item` (as its receipt named it when read) by the steps above. */
export async function removeItem(dataDir: string, item: StoredItem): Promise<RemoveOutcome> {
  const removedDir = join(dataDir, REMOVED_DIR);
  const paths = [item.path, ...(item.plaintextPath ? [item.plaintextPath] : [])];
  await mkdirDurable(removedDir);
  for (const path of paths) {
    try {
      createFile(join(removedDir, tombstoneName(path)), tombstoneText(item));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  await fsyncDir(removedDir);

  const receipts = layout(dataDir).receipts;
  const current = await readReceipt(dataDir, item.id);
  if (current === undefined || current.path !== item.path) return 'gone';
  removeIfThere(join(receipts, receiptFileName(item.id)));
  await fsyncDir(receipts);

  const dirs = new Set<string>();
  for (const path of paths) {
    removeIfThere(join(dataDir, path));
    dirs.add(dirname(join(dataDir, path)));
  }
  for (const dir of dirs) await fsyncDir(dir);
  await dropSettledTombstones(dataDir);
  return 'removed';
}

/**
 * Drops the tombstones no replay can need any more: those of items whose server has no journal segment left (it
 * stopped cleanly, or its segments were replayed and deleted). Returns how many it dropped.
 */
export async function dropSettledTombstones(dataDir: string): Promise<number> {
  const removedDir = join(dataDir, REMOVED_DIR);
  let names: string[];
  try {
    names = await readdir(removedDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const owners = new Set<string>();
  try {
    for (const name of await readdir(layout(dataDir).journal)) {
      const owner = serverIdOfTempName(name);
      if (owner !== undefined) owners.add(owner);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let dropped = 0;
  for (const name of names) {
    const owner = serverIdOfItemName(name.slice(name.indexOf('_') + 1));
    // A name this module did not write, or an owner whose segments remain: kept.
    if (owner === undefined || owners.has(owner)) continue;
    try {
      unlinkSync(join(removedDir, name));
      dropped += 1;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  if (dropped > 0) await fsyncDir(removedDir);
  return dropped;
}
