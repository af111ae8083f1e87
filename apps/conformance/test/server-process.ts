/**
 * Our server as a real process for the kit to check: `node apps/server/dist/main.js --port 0 --data-dir <tmp>
 * --output file` with the flags a test gives; the port is read from the line it prints once it listens (as
 * apps/server/test/reliability/harness.ts spawnServer does). The server must be built (turbo's test task builds
 * it first; locally, `pnpm build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@proj/test-utils';

export const SERVER_MAIN = join(__dirname, '..', '..', 'server', 'dist', 'main.js');
export const CLIENT_MAIN = join(__dirname, '..', '..', 'client', 'dist', 'main.js');

export interface ServerProcess {
  host: string;
  port: number;
  dataDir: string;
  /** What it printed on standard error (its log), for a failure's message. */
  stderr(): string;
  /** SIGTERM, the exit, then the data directory removed. */
  stop(): Promise<void>;
}

const LISTENING = /listening on ([^\s:]+):(\d+)/;

export async function startServerProcess(flags: readonly string[]): Promise<ServerProcess> {
  if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: run pnpm build first`);
  const dir = await makeTempDir('proj-conformance-server-');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      SERVER_MAIN,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dir.path,
      '--output',
      'file',
      '--no-prompt',
      '--log-level',
      'warn',
      ...flags,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  let m = LISTENING.exec(out);
  while (!m) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await dir.remove();
      throw new Error(`the server did not start:\n${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
    m = LISTENING.exec(out);
  }
  return {
    host: m[1] as string,
    port: Number(m[2]),
    dataDir: dir.path,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await dir.remove();
    },
  };
}
