/**
 * Start-up cleaning of what crashed or killed processes left in a data directory:
 *
 * - temporaries (`tmp/<serverId>.*`) whose owner is gone, or older than a day;
 * - unacknowledged items: a file in `items/` that no receipt points to was never acknowledged (the receipt is
 *   linked before it is sent), so no client relies on it; it is removed once its owner is gone or it is older
 *   than an hour. A live server's item is orphaned only for the instant between its link and its receipt.
 *
 * "Owner gone" is decided from the process id inside the server id: no such process on this host, or the id
 * is this process's own pid under another server id (a restarted container reuses pids). Servers on other hosts
 * sharing the directory are only covered by the age rules.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger';
import { fsyncDir } from './durable';
import { ITEMS_DIR, layout, pidOfServerId, serverIdOfItemName, serverIdOfTempName } from './paths';
import { listReceived } from './receipts';

export const STALE_TEMP_MS = 24 * 3600_000;
export const STALE_ORPHAN_MS = 3600_000;

export async function cleanStale(
  dataDir: string,
  currentServerId: string,
  log: Logger,
  now = Date.now(),
): Promise<{ temps: number; orphans: number }> {
  const dirs = layout(dataDir);
  let temps = 0;
  for (const name of await readdirOrEmpty(dirs.tmp)) {
    const full = join(dirs.tmp, name);
    const owner = serverIdOfTempName(name);
    if (owner === currentServerId) continue;
    const age = now - (await changedAt(full));
    if ((owner !== undefined && ownerGone(owner, currentServerId)) || age > STALE_TEMP_MS) {
      await rm(full, { recursive: true, force: true });
      temps += 1;
    }
  }

  const candidates: { day: string; name: string }[] = [];
  for (const day of await readdirOrEmpty(dirs.items)) {
    for (const name of await readdirOrEmpty(join(dirs.items, day))) {
      const owner = serverIdOfItemName(name);
      if (owner === currentServerId) continue;
      const gone = owner !== undefined && ownerGone(owner, currentServerId);
      if (gone || now - (await changedAt(join(dirs.items, day, name))) > STALE_ORPHAN_MS) candidates.push({ day, name });
    }
  }
  let orphans = 0;
  if (candidates.length > 0) {
    const referenced = new Set<string>();
    for (const item of await listReceived(dataDir)) {
      referenced.add(item.path);
      if (item.plaintextPath) referenced.add(item.plaintextPath);
    }
    const touched = new Set<string>();
    for (const { day, name } of candidates) {
      if (referenced.has(`${ITEMS_DIR}/${day}/${name}`)) continue;
      log.warn({ path: `${ITEMS_DIR}/${day}/${name}` }, 'removing an unacknowledged item');
      await rm(join(dirs.items, day, name), { force: true });
      touched.add(join(dirs.items, day));
      orphans += 1;
    }
    for (const dir of touched) await fsyncDir(dir);
  }
  return { temps, orphans };
}

/** True when the process that owns `serverId` no longer runs on this host. */
export function ownerGone(serverId: string, currentServerId: string): boolean {
  if (serverId === currentServerId) return false;
  const pid = pidOfServerId(serverId);
  if (pid === undefined) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The names in `dir`, or none when it does not exist. */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
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
