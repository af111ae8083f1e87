/**
 * The file-system steps the durability promise is made of: fsync a file, fsync a directory (so a rename or link
 * in it survives a crash), create a directory durably; and the small synchronous steps the store, its journal
 * and recovery share (create a file exclusively, write all of a buffer, remove files that may be gone).
 */
import { closeSync, fsync, openSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Flushes a directory's entries to disk. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates `dir` and its missing parents (private: 0700), fsyncing each parent that gained an entry. */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  // Every directory from `first` down to `dir` is new: fsync the parent of each.
  let d = dir;
  const parents: string[] = [];
  for (;;) {
    parents.push(dirname(d));
    if (d === first) break;
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const p of parents) await fsyncDir(p);
}

/** fsync(2) of an open descriptor, on the thread pool. */
export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Writes all of `bytes` at `position`. */
export function writeAllAt(fd: number, bytes: Uint8Array, position: number): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, position + off);
}

/** Creates `path` (exclusive, 0600) holding `data`, not fsynced; removes it again if the write fails. */
export function createFile(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const fd = openSync(path, 'wx', 0o600);
  let written = false;
  try {
    writeAllAt(fd, bytes, 0);
    written = true;
  } finally {
    closeSync(fd);
    if (!written) unlinkSync(path);
  }
}

/** Removes `path`; one already gone is fine. */
export function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Removes every path; one already gone is fine. Throws the first other failure after trying them all. */
export function unlinkAll(paths: string[]): void {
  let first: unknown;
  for (const p of paths) {
    try {
      removeIfThere(p);
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}
