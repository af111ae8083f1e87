/**
 * Flushing everything written so far, for a journal checkpoint: `syncfs(2)` on the data directory's file system
 * through coreutils' `sync --file-system` (one call, a few milliseconds once the kernel's own writeback has run),
 * or, where that command is missing (macOS, minimal images), an fsync of each named file and directory.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fsyncFd } from './durable';

/** Whether `sync -f` worked here: unknown until first tried. */
let syncfsWorks: boolean | undefined;

/**
 * Flushes the file system holding `dir`. Returns false, having done nothing, when `sync -f` is not available;
 * the caller then fsyncs what it needs one by one.
 */
export async function syncFileSystem(dir: string): Promise<boolean> {
  if (syncfsWorks === false) return false;
  const ok = await new Promise<boolean>((resolve) => {
    execFile('sync', ['-f', dir], { windowsHide: true }, (err) => resolve(err === null));
  });
  // A failure after it once worked is a real failure, not a missing command: the caller falls back all the same.
  syncfsWorks ??= ok;
  return ok;
}

/** Most fsyncs handed to the thread pool at once. */
const FSYNC_CONCURRENCY = 32;

/** fsyncs every path (files and directories alike); paths that no longer exist are skipped. */
export async function fsyncPaths(paths: Iterable<string>): Promise<void> {
  const list = [...new Set(paths)];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const path = list[next++] as string;
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      try {
        await fsyncFd(fd);
      } finally {
        closeSync(fd);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FSYNC_CONCURRENCY, list.length) }, worker));
}
