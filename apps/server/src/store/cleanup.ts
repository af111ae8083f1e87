/**
 * Start-up cleaning of what crashed or killed processes left in a data directory:
 *
 * - temporaries (`tmp/<serverId>.*`) whose owner is gone, or older than a day;
 * - unacknowledged items: a file in `items/` that no receipt points to was never acknowledged (the receipt is
 *   linked before it is sent), so no client relies on it; it is removed once its owner is gone or it is older
 *   than an hour. A live server's item is orphaned only for the instant between its link and its receipt. A
 *   damaged receipt still points somewhere: every item that may be its id's is kept (./receipt-repair.ts);
 * - the lock files of owners that are gone, once the rest of theirs is cleaned, and lock files left half-made.
 *
 * "Owner gone" is decided by the owner's lock (./liveness.ts), which the kernel holds for a server's lifetime
 * whatever its PID namespace; an owner whose liveness cannot be told (no flock(1)) is never gone, and only the
 * age rules apply to it.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger';
import { fsyncDir } from './durable';
import { Owners, serverIdOfLockName } from './liveness';
import { idForName, ITEMS_DIR, layout, nameHoldsId, serverIdOfItemName, serverIdOfTempName } from './paths';
import { listAcknowledged } from './journal-index';

export const STALE_TEMP_MS = 24 * 3600_000;
export const STALE_ORPHAN_MS = 3600_000;

/**
 * Cleans what dead owners left. `owners` is the view of who is alive shared with the rest of a start
 * (./store.ts); by default a fresh one.
 */
export async function cleanStale(
  dataDir: string,
  currentServerId: string,
  log: Logger,
  now = Date.now(),
  owners: Owners = new Owners(dataDir, currentServerId, log),
): Promise<{ temps: number; orphans: number }> {
  const dirs = layout(dataDir);
  let temps = 0;
  for (const name of await readdirOrEmpty(dirs.tmp)) {
    const full = join(dirs.tmp, name);
    const owner = serverIdOfTempName(name);
    if (owner === currentServerId) continue;
    const age = now - (await changedAt(full));
    if ((owner !== undefined && owners.isGone(owner)) || age > STALE_TEMP_MS) {
      await rm(full, { recursive: true, force: true });
      temps += 1;
    }
  }

  const candidates: { day: string; name: string }[] = [];
  for (const day of await readdirOrEmpty(dirs.items)) {
    for (const name of await readdirOrEmpty(join(dirs.items, day))) {
      const owner = serverIdOfItemName(name);
      if (owner === currentServerId) continue;
      const gone = owner !== undefined && owners.isGone(owner);
      if (gone || now - (await changedAt(join(dirs.items, day, name))) > STALE_ORPHAN_MS)
        candidates.push({ day, name });
    }
  }
  let orphans = 0;
  if (candidates.length > 0) {
    // Receipts still only in a running server's journal count: their items are acknowledged.
    const { items, damaged } = await listAcknowledged(dataDir);
    const referenced = new Set<string>();
    for (const item of items) {
      referenced.add(item.path);
      if (item.plaintextPath) referenced.add(item.plaintextPath);
    }
    const damagedIds = damaged.map((d) => idForName(d.id));
    const touched = new Set<string>();
    for (const { day, name } of candidates) {
      if (referenced.has(`${ITEMS_DIR}/${day}/${name}`)) continue;
      if (damagedIds.some((idName) => nameHoldsId(name, idName))) continue; // acknowledged, its receipt damaged
      log.warn({ path: `${ITEMS_DIR}/${day}/${name}` }, 'removing an unacknowledged item');
      await rm(join(dirs.items, day, name), { force: true });
      touched.add(join(dirs.items, day));
      orphans += 1;
    }
    for (const dir of touched) await fsyncDir(dir);
  }

  let locks = 0;
  for (const name of await readdirOrEmpty(dirs.locks)) {
    const full = join(dirs.locks, name);
    const owner = serverIdOfLockName(name);
    const stale =
      owner === undefined
        ? name.endsWith('.pending') && now - (await changedAt(full)) > STALE_ORPHAN_MS
        : owner !== currentServerId && owners.isGone(owner);
    if (!stale) continue;
    await rm(full, { force: true });
    locks += 1;
  }
  if (locks > 0) log.info({ locks }, 'removed the lock files of stopped servers');
  return { temps, orphans };
}

/** The names in `dir`, or none when it does not exist. */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return [];
    throw err;
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
