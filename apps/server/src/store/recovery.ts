/**
 * Start-up replay of the journals that crashed or killed processes left (./journal.ts): every item they
 * acknowledged is put back under its final name with its receipt, whatever of it the crash lost.
 *
 * Records withdrawn by an abort record (their put was answered ERR_STORAGE) are skipped. For each other intact
 * record, in the order it was appended (a torn last record was never acknowledged):
 * - if `receipts/<id>.json` names another item, another put of the id won: nothing to do;
 * - a dictionary (its bytes are in the record) is written again unless its file holds exactly those bytes;
 * - a file's record carries no bytes: its data and links were made durable before the record was appended, so
 *   if one of its files is missing, the record was never acknowledged and is skipped;
 * - the receipt is written unless a readable one for this item is there.
 * Then everything restored is flushed and the segments are deleted. Replaying twice changes nothing, so a crash
 * during recovery is recovered by the next start. Segments of live processes (other servers sharing the
 * directory, whatever their PID namespace: ./liveness.ts) are left to them, and so are those of owners whose
 * liveness cannot be told.
 */
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../logger';
import { readdirOrEmpty } from './cleanup';
import { createFile, removeIfThere } from './durable';
import { flushCovered } from './journal';
import { decodeSegment, type DecodedSegment, type JournalRecord } from './journal-record';
import { Owners } from './liveness';
import { layout, receiptFileName, serverIdOfTempName } from './paths';
import { parseReceipt, PARTIAL_RETRIES, PARTIAL_WAIT_MS, receiptText, type StoredItem } from './receipts';
import { isRemoved } from './removal';
import { fsyncPaths } from './sync-fs';

export interface ReplayResult {
  /** Segments replayed and deleted. */
  segments: number;
  /** Records that needed a file or a receipt written again. */
  restored: number;
}

/**
 * Replays the segments of dead owners. `owners` is the view of who is alive shared with the rest of a start
 * (./store.ts); by default a fresh one.
 */
export async function replayJournals(
  dataDir: string,
  currentServerId: string,
  log: Logger,
  flush: 'syncfs' | 'fsync' = 'syncfs',
  owners: Owners = new Owners(dataDir, currentServerId, log),
): Promise<ReplayResult> {
  const dirs = layout(dataDir);
  const segments = (await readdirOrEmpty(dirs.journal))
    .map((name) => ({ name, owner: serverIdOfTempName(name), seq: Number(/\.(\d+)\.log$/.exec(name)?.[1]) }))
    .filter(
      (s) => s.owner !== undefined && s.owner !== currentServerId && Number.isInteger(s.seq) && owners.isGone(s.owner),
    )
    .sort((a, b) => (a.owner === b.owner ? a.seq - b.seq : (a.owner as string) < (b.owner as string) ? -1 : 1))
    .map((s) => join(dirs.journal, s.name));
  if (segments.length === 0) return { segments: 0, restored: 0 };

  let counter = 0;
  const tempPath = (): string => join(dirs.tmp, `${currentServerId}.r${++counter}.replay`);
  let restored = 0;
  const decoded: DecodedSegment[] = [];
  for (const segment of segments) {
    const bytes = readIfThere(segment);
    if (bytes === undefined) continue; // replayed by another server starting at the same time
    const d = decodeSegment(bytes);
    if (d.stoppedAt !== undefined) {
      log.info(
        { segment, records: d.records.length, stoppedAt: d.stoppedAt },
        'journal segment ends in a record that was never completed',
      );
    }
    decoded.push(d);
  }
  // An abort may stand in a later segment than its record: all of them first. Paths carry the server id, so
  // they are unique across owners.
  const aborted = new Set(decoded.flatMap((d) => (d.aborts ?? []).map((a) => a.path)));
  for (const d of decoded) {
    for (const record of d.records) {
      if (aborted.has(record.item.path)) continue;
      if (restoreRecord(dataDir, record, tempPath)) restored += 1;
    }
  }
  await flushCovered(dataDir, segments, flush);
  for (const segment of segments) removeIfThere(segment);
  await fsyncPaths([dirs.journal]);
  if (restored > 0)
    log.warn(
      { segments: segments.length, restored },
      'restored acknowledged items from the journal of a stopped server',
    );
  return { segments: segments.length, restored };
}

/** Puts one record's item and receipt back if they are not there intact. True if anything was written. */
function restoreRecord(dataDir: string, record: JournalRecord, tempPath: () => string): boolean {
  const { item } = record;
  // Removed by the operator since (./removal.ts): acknowledged once, deliberately gone now.
  if (isRemoved(dataDir, item)) return false;
  const receiptPath = join(layout(dataDir).receipts, receiptFileName(item.id));
  const existing = inspectReceipt(receiptPath, item.id);
  if (existing !== undefined && existing !== 'damaged' && existing.path !== item.path) return false;

  let wrote = false;
  if (record.data !== undefined) {
    const itemPath = join(dataDir, item.path);
    if (!holds(itemPath, item)) {
      mkdirSync(dirname(itemPath), { recursive: true, mode: 0o700 });
      writeThenRename(tempPath(), itemPath, record.data);
      wrote = true;
    }
  } else if (![item.path, item.plaintextPath].every((p) => p === undefined || existsSync(join(dataDir, p)))) {
    return false;
  }
  if (existing !== undefined && existing !== 'damaged') return wrote;

  const temp = tempPath();
  createFile(temp, receiptText(item));
  try {
    if (existing === 'damaged') renameSync(temp, receiptPath);
    else linkSync(temp, receiptPath);
  } catch (err) {
    // Claimed by a live server in the meantime: its receipt stands.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // renamed away
    }
  }
  return true;
}

/** A receipt file's item, `undefined` if there is none, `'damaged'` if it is there but unreadable (re-read as readReceiptFile does). */
function inspectReceipt(path: string, id: string): StoredItem | 'damaged' | undefined {
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = parseReceipt(text, id);
    if (!('problem' in parsed)) return parsed;
    if (attempt >= PARTIAL_RETRIES) return 'damaged';
    // Start-up is synchronous here, and this is rare: a short blocking wait.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PARTIAL_WAIT_MS);
  }
}

/** Whether `path` holds exactly the item's bytes. */
function holds(path: string, item: StoredItem): boolean {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  return bytes.length === item.bytes && createHash('sha256').update(bytes).digest('hex') === item.sha256;
}

function writeThenRename(temp: string, path: string, data: Uint8Array): void {
  createFile(temp, data);
  renameSync(temp, path);
}

function readIfThere(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
