/**
 * SHA-256 states of a file's first bytes, kept while this process sends the file (docs/CLIENT.md, "Resuming"): a
 * resume in the same process starts hashing from the state nearest below the server's offset instead of reading
 * and hashing the file from byte 0. They are kept per file identity (path, device, inode, size, modification and
 * change times, as `fs.stat` gives them in nanoseconds): a file written since has another identity, and its resume
 * reads it from the start again. Measured in apps/bench (resume row, docs/BENCHMARKS.md): re-reading and hashing
 * a 512 MiB prefix was a third of the client's CPU time in a resume at 50 %.
 */
import type { Hash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { resolve } from 'node:path';

/** States kept at every chunk sent, the latest ones: a cut leaves the server's durable offset a few MiB behind. */
const RECENT_STATES = 64;
/**
 * States kept every this many bytes, the latest SPARSE_STATES of them: a server that crashed continues from its
 * last record (ours: every 64 MiB or every second), so the offset may be further back.
 */
const SPARSE_EVERY = 64 * 1024 * 1024;
const SPARSE_STATES = 32;
/** Files whose states are kept, the most recently sent ones. */
const MAX_FILES = 8;

interface State {
  at: number;
  hash: Hash;
}

export class HashCheckpoints {
  readonly #recent: State[] = [];
  readonly #sparse: State[] = [];

  /** Keeps a copy of `hash`, the state after the file's first `at` bytes (added in increasing order). */
  add(at: number, hash: Hash): void {
    const last = this.#recent[this.#recent.length - 1];
    if (last !== undefined && at <= last.at) this.clear(); // the file is being read from its start again
    this.#recent.push({ at, hash: hash.copy() });
    if (this.#recent.length > RECENT_STATES) this.#recent.shift();
    const sparse = this.#sparse[this.#sparse.length - 1];
    if (Math.floor(at / SPARSE_EVERY) > Math.floor((sparse?.at ?? 0) / SPARSE_EVERY)) {
      this.#sparse.push({ at, hash: hash.copy() });
      if (this.#sparse.length > SPARSE_STATES) this.#sparse.shift();
    }
  }

  /** A copy of the latest state at or below `offset` (above 0), to go on hashing from; undefined when none. */
  below(offset: number): { at: number; hash: Hash } | undefined {
    let best: State | undefined;
    for (const state of [...this.#sparse, ...this.#recent]) {
      if (state.at <= offset && (best === undefined || state.at > best.at)) best = state;
    }
    return best ? { at: best.at, hash: best.hash.copy() } : undefined;
  }

  clear(): void {
    this.#recent.length = 0;
    this.#sparse.length = 0;
  }
}

/** The states of the files sent last in this process, by identity (least recently used first). */
const byFile = new Map<string, HashCheckpoints>();

/** What identifies a file and its contents for reusing its states: any write changes the times. */
export function fileIdentity(path: string, stats: BigIntStats): string {
  return [resolve(path), stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].join('\u0000');
}

/** The states kept for the file of `identity` (./file-source.ts `plainSource`), made when there are none. */
export function checkpointsOf(identity: string): HashCheckpoints {
  let states = byFile.get(identity);
  if (states) {
    byFile.delete(identity);
  } else {
    states = new HashCheckpoints();
    // Other identities of the same path are states of contents it no longer has.
    const path = identity.slice(0, identity.indexOf('\u0000') + 1);
    for (const key of byFile.keys()) if (key.startsWith(path)) byFile.delete(key);
  }
  byFile.set(identity, states);
  while (byFile.size > MAX_FILES) {
    const oldest = byFile.keys().next().value;
    if (oldest === undefined) break;
    byFile.delete(oldest);
  }
  return states;
}

/** Forgets the states of `identity` (the file is stored: nothing will resume it). */
export function forgetCheckpoints(identity: string): void {
  byFile.delete(identity);
}
