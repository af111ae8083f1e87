/**
 * The file-system steps the durability promise is made of: fsync a file, fsync a directory (so a rename or link
 * in it survives a crash), create a directory durably.
 */
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

/** Writes `data` to a new file (exclusive create), fsyncs and closes it. */
export async function writeFileDurable(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
