/**
 * The receipts the journals hold that `receipts/` does not yet show: items acknowledged by a running server
 * whose files it has not written yet (./materialiser.ts writes them just after the acknowledgement), and those of
 * a stopped server whose journal was not replayed yet. `list` shows them with the others (./receipts.ts
 * listReceipts), and a server that starts beside a running one answers retries of their ids from them
 * (docs/SERVER.md §5, idempotency across processes). Reads only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSegment } from './journal-record';
import { layout, receiptFileName, serverIdOfTempName } from './paths';
import { type DamagedReceiptFile, listReceipts, type StoredItem } from './receipts';
import { isRemoved, REMOVED_DIR } from './removal';

/**
 * Every item record of the journal segments in `dataDir` (but those of `skipOwner`) that no abort withdrew, no
 * removal took back and that has no receipt file, by put id (the first record of an id wins, as its receipt file would).
 */
export function journalReceipts(dataDir: string, skipOwner?: string): Map<string, StoredItem> {
  const receipts = layout(dataDir).receipts;
  const found = journalItems(dataDir, skipOwner);
  for (const id of found.keys()) if (existsSync(join(receipts, receiptFileName(id)))) found.delete(id);
  return found;
}

/**
 * Every item record of the journal segments that no abort withdrew and no removal (`server rm`) took back, by put
 * id (the first record of an id).
 */
function journalItems(dataDir: string, skipOwner?: string): Map<string, StoredItem> {
  const dirs = layout(dataDir);
  const found = new Map<string, StoredItem>();
  const aborted = new Set<string>();
  const names = namesIn(dirs.journal)
    .map((name) => ({ name, owner: serverIdOfTempName(name), seq: Number(/\.(\d+)\.log$/.exec(name)?.[1]) }))
    .filter((s) => s.owner !== undefined && s.owner !== skipOwner && Number.isInteger(s.seq))
    .sort((a, b) => (a.owner === b.owner ? a.seq - b.seq : (a.owner as string) < (b.owner as string) ? -1 : 1));
  const records: StoredItem[] = [];
  for (const { name } of names) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dirs.journal, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // checkpointed meanwhile
      throw err;
    }
    const segment = decodeSegment(bytes);
    for (const r of segment.records) records.push(r.item);
    for (const a of segment.aborts ?? []) aborted.add(a.path);
  }
  // A record whose item `server rm` or `prune` removed (a tombstone names it) is no longer acknowledged: a running
  // server's segment still holds it, and neither `list` nor a retry may bring it back (./removal.ts).
  const removals = namesIn(join(dataDir, REMOVED_DIR)).length > 0;
  for (const item of records) {
    if (aborted.has(item.path) || found.has(item.id)) continue;
    if (removals && isRemoved(dataDir, item)) continue;
    found.set(item.id, item);
  }
  return found;
}

/**
 * Every acknowledged item of `dataDir`, oldest first: the readable receipts, and the receipts the journals hold
 * that are not written as files yet; and the damaged receipt files. What `list` shows.
 */
export async function listAcknowledged(
  dataDir: string,
): Promise<{ items: StoredItem[]; damaged: DamagedReceiptFile[] }> {
  // The journals first: a receipt file is written after its record, and a segment deleted after its receipt
  // files, so every receipt acknowledged before this call is in one or the other.
  const journaled = journalItems(dataDir);
  const { items, damaged } = await listReceipts(dataDir);
  if (journaled.size === 0) return { items, damaged };
  const damagedIds = new Set(damaged.map((d) => d.id));
  for (const item of items) journaled.delete(item.id);
  for (const [id, item] of journaled) if (!damagedIds.has(id)) items.push(item);
  items.sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : a.id.localeCompare(b.id)));
  return { items, damaged };
}

function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
