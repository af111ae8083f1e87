/** Where things are: the repository root, the server's and client's built entry points, temp directories. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BenchError } from './proc';

/** The directory holding pnpm-workspace.yaml, found upwards from this file. */
export function repoRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new BenchError('ERR_LAYOUT', `no pnpm-workspace.yaml above ${from}`);
    dir = up;
  }
}

/** A built program of the workspace, e.g. `apps/server/dist/main.js`; tells how to build it when missing. */
export function builtProgram(relative: string): string {
  const path = join(repoRoot(), relative);
  if (!existsSync(path)) {
    throw new BenchError('ERR_NOT_BUILT', `${relative} is missing: run \`pnpm build\` (pnpm bench builds it first)`);
  }
  return path;
}

export const SERVER_MAIN = 'apps/server/dist/main.js';
export const CLIENT_MAIN = 'apps/client/dist/main.js';

/** A fresh directory under the system temp directory, and its removal. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `proj-bench-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
