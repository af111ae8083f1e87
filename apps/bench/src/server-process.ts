/**
 * Our server, run as its own process (`node apps/server/dist/main.js`), so that its RSS is its own and the
 * benchmark's clients compete with it for the CPU the way real clients on the same machine would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtProgram, SERVER_MAIN } from './paths';
import { BenchError, freshLogFile, readRss, stop, waitForLine } from './proc';

export interface ServerProcessOptions {
  /** Data directory (created by the server when missing). */
  dataDir: string;
  /** Where its standard output and error go (files `server-<n>.out`, `server-<n>.err`). */
  logDir: string;
  /** Extra server flags, e.g. `['--max-connections', '1100']`. */
  flags?: readonly string[];
  /** Node flags, e.g. `['--cpu-prof', '--cpu-prof-dir', dir]`. */
  nodeFlags?: readonly string[];
}

export interface ServerProcess {
  host: string;
  port: number;
  /** The server's age recipient, from its listening line. */
  recipient: string | undefined;
  pid: number;
  /** Peak and current RSS so far (VmHWM, VmRSS). */
  rss(): Promise<{ peakBytes: number; currentBytes: number }>;
  /** SIGTERM, then waits for the exit (the server lets puts under way finish first). */
  stop(): Promise<void>;
  /** The server's standard error so far (its JSON log at `warn`). */
  log(): Promise<string>;
}

/** The line the server prints once it accepts connections. */
const LISTENING = /listening on (\[[^\]]+\]|[^\s:]+):(\d+)[^\n]*?(?:recipient (age1[0-9a-z]+))?\s*$/m;

/** Spawns the server on port 0 with `--output file` and resolves once it listens. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const outFile = freshLogFile(options.logDir, 'server', 'out');
  const errFile = outFile.replace(/\.out$/, '.err');
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [
        ...(options.nodeFlags ?? []),
        // BENCH_SERVER_MAIN: another build of the server (A/B runs of two builds against the same client).
        process.env.BENCH_SERVER_MAIN ?? builtProgram(SERVER_MAIN),
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--data-dir',
        options.dataDir,
        '--output',
        'file',
        '--log-level',
        'warn',
        '--no-prompt',
        ...(options.flags ?? []),
      ],
      { stdio: ['ignore', out, err] },
    );
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const m = await waitForLine(outFile, LISTENING, child, 20_000).catch(async (e: unknown) => {
    child.kill('SIGKILL');
    const log = await readFile(errFile, 'utf8').catch(() => '');
    throw new BenchError('ERR_SERVER_START', `the server did not start: ${(e as Error).message}\n${log.slice(-2000)}`, {
      cause: e,
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new BenchError('ERR_SERVER_START', 'the server has no pid');
  const host = (m[1] as string).replace(/^\[|\]$/g, '');
  return {
    host,
    port: Number(m[2]),
    recipient: m[3],
    pid,
    rss: () => readRss(pid),
    stop: async () => {
      const code = await stop(child);
      // SIGTERM is the normal way to stop it: the server exits 0 after its graceful shutdown.
      if (code !== 0) {
        const log = await readFile(errFile, 'utf8').catch(() => '');
        throw new BenchError('ERR_SERVER_EXIT', `the server exited with ${code}:\n${log.slice(-2000)}`);
      }
    },
    log: () => readFile(errFile, 'utf8').catch(() => ''),
  };
}
