/**
 * The data directory as the operator's commands read it (./item-store.ts ItemCatalog), without starting a
 * server's store: before listing, it restores what a server's start would (journals of stopped servers replayed,
 * damaged receipts rebuilt), holding a lock of its own meanwhile; where it may not write (a directory it may only
 * read, or none yet), it only reads.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createLogger } from '../logger';
import type { ItemCatalog, ItemList } from './item-store';
import { Owners, ServerLock } from './liveness';
import { layout, newServerId } from './paths';
import { findDamaged, repairReceipts } from './receipt-repair';
import { replayJournals } from './recovery';

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

  async close(): Promise<void> {}
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
