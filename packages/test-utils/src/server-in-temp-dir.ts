/**
 * A server under test on a free port with a fresh temporary data directory. The server's own start function is
 * passed in: test-utils cannot depend on the server package, whose tests depend on test-utils. The server's test
 * helpers and the client's integration harness both start their servers through it.
 */
import { makeTempDir } from './temp-dir';

export interface ServerInTempDir<S> {
  server: S;
  dataDir: string;
  /** Removes the data directory; nothing when the caller named its own. */
  removeDir(): Promise<void>;
}

/**
 * Calls `start({ port: 0, ...options, dataDir })`, where `dataDir` is `options.dataDir` or a new temporary
 * directory named after `prefix` (removed again when `start` throws).
 */
export async function startServerInTempDir<P extends { port?: number; dataDir: string }, S>(
  start: (options: P) => Promise<S>,
  options: Omit<P, 'port' | 'dataDir'> & { port?: number; dataDir?: string },
  prefix: string,
): Promise<ServerInTempDir<S>> {
  const dir = options.dataDir ? undefined : await makeTempDir(prefix);
  const dataDir = options.dataDir || (dir as { path: string }).path;
  const removeDir = async (): Promise<void> => {
    await dir?.remove();
  };
  try {
    const server = await start({ port: 0, ...options, dataDir } as P);
    return { server, dataDir, removeDir };
  } catch (err) {
    await removeDir();
    throw err;
  }
}
