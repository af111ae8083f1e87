/**
 * The data directory as the operator's commands see it (./item-store.ts ItemCatalog), without starting a
 * server's store: before anything is read, it restores what a server's start would (journals of stopped servers
 * replayed, damaged receipts rebuilt), holding a lock of its own meanwhile; where it may not write (a directory it
 * may only read, or none yet), it only reads. Removal is ./removal.ts's, safe while servers run.
 */
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createLogger } from '../logger';
import type { ItemCatalog, ItemList, RemoveOutcome } from './item-store';
import { Owners, ServerLock } from './liveness';
import { layout, newServerId } from './paths';
import { readReceipt, type StoredItem } from './receipts';
import { findDamaged, repairReceipts } from './receipt-repair';
import { replayJournals } from './recovery';
import { removeItem } from './removal';

export class LocalCatalog implements ItemCatalog {
  private constructor(readonly where: string) {}

  /** Restores what a server's start would, where it may, then reads. */
  static async open(dataDir: string): Promise<LocalCatalog> {
    await recoverForList(dataDir);
    return new LocalCatalog(dataDir);
  }

  list(): Promise<ItemList> {
    return listDataDir(this.where);
  }

  find(id: string): Promise<StoredItem | undefined> {
    return readReceipt(this.where, id);
  }

  async present(item: StoredItem): Promise<boolean> {
    try {
      await access(join(this.where, item.path));
      return true;
    } catch {
      return false;
    }
  }

  remove(item: StoredItem): Promise<RemoveOutcome> {
    return removeItem(this.where, item);
  }

  readHead(path: string, maxBytes: number): Promise<{ head: Buffer; more: boolean }> {
    return readFileHead(join(this.where, path), maxBytes);
  }

  openReader(path: string, highWaterMark: number): Readable {
    return createReadStream(join(this.where, path), { highWaterMark });
  }

  async close(): Promise<void> {}
}

/** The first `maxBytes` bytes of a file, and whether it holds more. */
export async function readFileHead(file: string, maxBytes: number): Promise<{ head: Buffer; more: boolean }> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, maxBytes + 1, 0);
    return { head: buffer.subarray(0, Math.min(bytesRead, maxBytes)), more: bytesRead > maxBytes };
  } finally {
    await handle.close();
  }
}

/** The receipts of a data directory as an ItemList (the damaged ones with the items that may be theirs). */
export async function listDataDir(dataDir: string): Promise<ItemList> {
  const { items, damaged } = await findDamaged(dataDir);
  return {
    items,
    damaged: damaged.map((d) => ({ id: d.id, receipt: d.file, problem: d.problem, candidates: d.candidates })),
  };
}

export async function recoverForList(dataDir: string): Promise<void> {
  const log = createLogger('warn');
  const id = newServerId();
  let lock: ServerLock;
  try {
    if (!existsSync(dataDir)) return;
    mkdirSync(layout(dataDir).locks, { mode: 0o700, recursive: true });
    lock = ServerLock.acquire(dataDir, id, log);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EROFS' || code === 'EPERM') return;
    throw err;
  }
  try {
    const owners = new Owners(dataDir, id, log);
    await replayJournals(dataDir, id, log, 'syncfs', owners);
    if (existsSync(layout(dataDir).tmp)) await repairReceipts(dataDir, id, owners, log);
  } finally {
    lock.release();
  }
}
