/**
 * Which servers sharing a data directory are alive: each holds, for its whole lifetime, an exclusive flock(2) on
 * its own lock file `locks/<serverId>.lock`. The kernel releases such a lock only when every descriptor of its
 * open file description is closed, so when the server process ends however it ends (SIGKILL included), in
 * whatever PID namespace it ran. Process ids are not used: two containers on one volume each run their server
 * as PID 1, and a pid alive in one namespace says nothing about another.
 *
 * Node has no flock(), so util-linux's (or busybox's) `flock(1)` takes it on a descriptor the server lends it:
 * the child shares the server's open file description, so the lock it takes stays held after it exits, and is
 * the server's. Another process tells whether an owner is alive by opening the owner's lock file itself and
 * trying a shared lock without waiting: it gets it only when nobody holds the exclusive one.
 *
 * A lock file appears under its final name already locked (it is locked under a pending name, then renamed), so
 * an existing, unlocked lock file always means a dead owner; and every server creates its lock file before it
 * writes anything else, so an owner without a lock file is dead too (its lock file was removed by whoever cleaned
 * up after it, or it ran a version without locks). Where flock(1) is missing, a server still publishes its lock
 * file, marked `"held": "none"`, and nobody can tell it from a dead one: such owners count as alive (nothing of
 * theirs is deleted or replayed) and the log says so once.
 *
 * flock(2) on NFS is emulated with POSIX locks, which belong to a process rather than to the open file
 * description: this does not work across hosts, and several hosts sharing one directory are not supported.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../logger';
import { removeIfThere } from './durable';
import { layout } from './paths';
import { isoTime } from '../iso-time';

/** What a lock file holds: for operators (who started it, where), and whether the lock is really held. */
export interface LockFileContent {
  serverId: string;
  pid: number;
  host: string;
  startedAt: string;
  /** `flock`: the owner holds an exclusive flock on this file; `none`: flock(1) was missing, liveness unknown. */
  held: 'flock' | 'none';
}

export type OwnerState = 'alive' | 'dead' | 'unknown';

/** The lock file of `serverId`. */
export function lockPath(dataDir: string, serverId: string): string {
  return join(layout(dataDir).locks, `${serverId}.lock`);
}

/** The server id of a lock file name (`<serverId>.lock`), if it is one. */
export function serverIdOfLockName(fileName: string): string | undefined {
  const m = /^([0-9a-f]{8}-\d+)\.lock$/.exec(fileName);
  return m ? m[1] : undefined;
}

type FlockResult = { result: 'locked' } | { result: 'busy' } | { result: 'unavailable'; reason: string };

/** Tries flock(2) on `fd` without waiting, through flock(1) sharing the descriptor's open file description. */
function flockFd(fd: number, mode: 'exclusive' | 'shared'): FlockResult {
  // Short options: util-linux and busybox both take them.
  const r = spawnSync('flock', ['-n', mode === 'exclusive' ? '-x' : '-s', '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
    timeout: 10_000,
    windowsHide: true,
  });
  if (r.error) return { result: 'unavailable', reason: r.error.message };
  if (r.status === 0) return { result: 'locked' };
  // With -n, a lock held by someone else is exit status 1 and no message; anything else is flock failing.
  const message = r.stderr.toString().trim();
  if (r.status === 1 && message === '') return { result: 'busy' };
  return { result: 'unavailable', reason: `flock exited with ${r.status ?? r.signal}${message ? `: ${message}` : ''}` };
}

let warnedNoFlock = false;

function warnNoFlock(log: Logger, reason: string): void {
  if (warnedNoFlock) return;
  warnedNoFlock = true;
  log.warn(
    { reason },
    'flock(1) is not usable (install util-linux or busybox): servers sharing this data directory cannot tell live from dead ones, so nothing of a server without a held lock is deleted or replayed; once you know such a server is stopped, delete its locks/<serverId>.lock and the next start (or `server list`) replays its journal',
  );
}

/** The lock this process holds for its server id, from start to stop. */
export class ServerLock {
  #fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    readonly held: 'flock' | 'none',
  ) {
    this.#fd = fd;
  }

  /**
   * Creates and locks `locks/<serverId>.lock` (the `locks/` directory must exist). Throws when flock(1) runs but
   * cannot lock a file nobody else knows of yet (something is badly wrong); where flock(1) is missing, publishes
   * the lock file unlocked, marked `held: none`, and warns once.
   */
  static acquire(dataDir: string, serverId: string, log: Logger): ServerLock {
    const path = lockPath(dataDir, serverId);
    const pending = join(layout(dataDir).locks, `${serverId}.pending`);
    const fd = openSync(pending, 'wx', 0o600);
    try {
      const locked = flockFd(fd, 'exclusive');
      if (locked.result === 'busy') throw new Error(`${pending} is locked by another process`);
      if (locked.result === 'unavailable') warnNoFlock(log, locked.reason);
      const held = locked.result === 'locked' ? 'flock' : 'none';
      const content: LockFileContent = {
        serverId,
        pid: process.pid,
        host: hostname(),
        startedAt: isoTime(),
        held,
      };
      writeSync(fd, `${JSON.stringify(content)}\n`, 0);
      renameSync(pending, path);
      return new ServerLock(path, fd, held);
    } catch (err) {
      closeSync(fd);
      removeIfThere(pending);
      throw err;
    }
  }

  /** For a clean stop, once nothing of this server is left to clean: removes the lock file, then unlocks it. */
  release(): void {
    if (this.#fd === undefined) return;
    try {
      unlinkSync(this.path);
    } catch {
      // already removed: an unlocked lock file, or none, both say "stopped"
    }
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Whether the owner of `serverId` runs: `dead` only when that is certain. */
export function probeOwner(dataDir: string, serverId: string, log: Logger): OwnerState {
  let fd: number;
  try {
    fd = openSync(lockPath(dataDir, serverId), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'dead';
    log.warn({ err, serverId }, 'cannot open a server’s lock file: counted as alive');
    return 'unknown';
  }
  try {
    const locked = flockFd(fd, 'shared');
    if (locked.result === 'busy') return 'alive';
    if (locked.result === 'unavailable') {
      warnNoFlock(log, locked.reason);
      return 'unknown';
    }
    // Free: dead, unless its owner could not lock it in the first place.
    return heldBy(fd) === 'none' ? 'unknown' : 'dead';
  } finally {
    closeSync(fd); // drops the shared lock taken to look
  }
}

/** The `held` field of a lock file; a file cut short by a crash counts as `flock` (its owner is gone anyway). */
function heldBy(fd: number): 'flock' | 'none' {
  try {
    const content = JSON.parse(readFileSync(fd, 'utf8')) as Partial<LockFileContent>;
    return content.held === 'none' ? 'none' : 'flock';
  } catch {
    return 'flock';
  }
}

/**
 * The owners of a data directory's files as one start-up (or `list`) sees them: each owner probed once, the
 * answer kept, so that journal replay and cleaning agree. Owners found alive or unknown stay so for this view.
 */
export class Owners {
  readonly #states = new Map<string, OwnerState>();

  constructor(
    readonly dataDir: string,
    readonly currentServerId: string,
    private readonly log: Logger,
  ) {}

  /** True only when the owner is certainly dead: its files may be replayed and removed. */
  isGone(serverId: string): boolean {
    if (serverId === this.currentServerId) return false;
    let state = this.#states.get(serverId);
    if (state === undefined) {
      state = probeOwner(this.dataDir, serverId, this.log);
      this.#states.set(serverId, state);
      if (state === 'unknown') {
        this.log.warn(
          { serverId, lockFile: lockPath(this.dataDir, serverId) },
          'cannot tell whether a server sharing the data directory runs (its lock is not held with flock): its temporaries and journal are kept; once you know it is stopped, delete its lock file',
        );
      }
    }
    return state === 'dead';
  }
}
