/**
 * Memory with many idle connections: a fresh server process holds `idleConnections` connections that completed
 * the handshake and then stay quiet; its peak RSS is read from /proc. Baseline: the bare `node:net` echo server
 * holding the same number of idle sockets (the runtime's floor per connection).
 *
 * The server is started with `--max-connections` above the count: the default (256) would refuse the rest.
 */
import { rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatBytes } from '@proj/cli-kit';
import { connect, type Client } from '@proj/protocol';
import type { BenchConfig } from '../config';
import { idleSocket, startEchoProcess } from '../echo';
import { startServerProcess } from '../server-process';
import { Better, type Row } from '../table';
import { MiB } from '../units';

export const IDLE_RSS_TARGET_BYTES = 64 * MiB;
/** Connections opened at once: below the listen backlog, so no SYN is dropped and retried a second later. */
const BATCH = 100;
/** Time the connections are held before the peak is read: lets the server settle what it allocated per socket. */
const HOLD_MS = 1_000;

async function inBatches<T>(count: number, open: () => Promise<T>): Promise<T[]> {
  const all: T[] = [];
  for (let done = 0; done < count; done += BATCH) {
    all.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, count - done) }, open))));
  }
  return all;
}

export async function memoryRows(config: BenchConfig): Promise<Row[]> {
  const count = config.idleConnections;

  config.progress(`memory: echo baseline holding ${count} idle sockets`);
  const echo = await startEchoProcess(config.workDir);
  let basePeak: number;
  try {
    const sockets: Socket[] = await inBatches(count, () => idleSocket(echo.port));
    await sleep(HOLD_MS);
    basePeak = (await echo.rss()).peakBytes;
    for (const s of sockets) s.destroy();
  } finally {
    await echo.stop();
  }

  config.progress(`memory: our server holding ${count} idle connections`);
  const dataDir = join(config.workDir, 'data-idle');
  const server = await startServerProcess({
    dataDir,
    logDir: config.workDir,
    // Every connection comes from 127.0.0.1: the per-address limit (64 by default) must let them all in too.
    flags: ['--max-connections', String(count + 100), '--max-per-address', String(count + 100)],
  });
  let peak: number;
  try {
    const clients: Client[] = await inBatches(count, () =>
      connect({ host: server.host, port: server.port, keepAlive: false }),
    );
    await sleep(HOLD_MS);
    peak = (await server.rss()).peakBytes;
    await Promise.all(clients.map((c) => c.close()));
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  return [
    {
      name: `server peak RSS, ${count.toLocaleString('en-US')} idle connections`,
      ours: formatBytes(peak),
      baseline: `bare node:net ${formatBytes(basePeak)}`,
      ratio: peak / basePeak,
      better: Better.Lower,
      target: `≤ ${formatBytes(IDLE_RSS_TARGET_BYTES)}`,
      met: peak <= IDLE_RSS_TARGET_BYTES,
      note: 'each connection completed the handshake (hello/welcome), then stayed silent; VmHWM of the server process',
    },
  ];
}
