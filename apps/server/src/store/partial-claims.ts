/**
 * The claim of a partial (./partials.ts): `partials/<key>.owner`, created exclusively (O_EXCL, as receipts are) and
 * holding the server id of the process that uses the partial; removed when its put ends. A claim left by a server
 * that is gone (its lock is free, ./liveness.ts) is taken over.
 */
import { link, lstat, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Logger } from '../logger';

/** A claim file still empty after this long was cut short by a crash between its create and its write. */
const EMPTY_CLAIM_MS = 10_000;

export interface ClaimOptions {
  /** This process's server id, written into the claim. */
  serverId: string;
  /** True when the server `owner` is certainly gone (./liveness.ts `Owners.isGone`). */
  isGone(owner: string): boolean;
  /** A path beside `path`, unique to this process, to move a stale claim to. */
  aside(path: string): string;
  log: Logger;
}

/**
 * Takes the claim at `path`: creates it exclusively; takes over one left by a gone server, or by this process
 * outside any put (the caller holds the id in this process, so such a claim is stale). False when a live server
 * (or one whose liveness cannot be told) holds it.
 */
export async function claim(path: string, o: ClaimOptions): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, o.serverId, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(path);
    if (owner === undefined) continue; // removed meanwhile: try again
    if (owner === '') {
      // Being written this instant, or cut short by a crash long ago.
      if (Date.now() - (await modifiedAt(path)) < EMPTY_CLAIM_MS) return false;
    } else if (owner !== o.serverId && !o.isGone(owner)) {
      return false;
    }
    if (!(await takeOver(path, owner, o))) return false;
  }
  return false;
}

/**
 * Removes the stale claim at `path` that `owner` left. It is renamed aside first and read back: if another server
 * took it over in between (the name then held a live claim), it is put back with link(2), which never replaces a
 * claim made meanwhile. False when it was someone else's.
 */
async function takeOver(path: string, owner: string, o: ClaimOptions): Promise<boolean> {
  const aside = o.aside(path);
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true; // gone meanwhile: claim again
    throw err;
  }
  const moved = await readOwner(aside);
  if (moved === owner) {
    await rm(aside, { force: true });
    o.log.info({ claim: path, owner }, 'took over the claim of a partial left by a stopped server');
    return true;
  }
  await link(aside, path).catch(() => undefined);
  await rm(aside, { force: true });
  return false;
}

async function readOwner(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** A file's modification time (its last write); now when it is gone. */
async function modifiedAt(path: string): Promise<number> {
  try {
    return (await lstat(path)).mtimeMs;
  } catch {
    return Date.now();
  }
}

/** The later of a file's modification and change times; now when it is gone. */
export async function changedAt(path: string): Promise<number> {
  try {
    const st = await lstat(path);
    return Math.max(st.mtimeMs, st.ctimeMs);
  } catch {
    return Date.now();
  }
}
