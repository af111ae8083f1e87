#!/usr/bin/env node
/**
 * A/B of two builds of the server on durable dictionaries, for a machine too busy for `pnpm bench`'s rates:
 * alternating runs of this build and another (`OLD_MAIN=<path of its dist/main.js>`), each a fixed number of puts
 * by N clients, reporting the server's CPU time per acknowledgement (utime and stime from /proc, which the other
 * tenants disturb far less than the rate) beside the rate and p50 / p99.
 *
 *   OLD_MAIN=/tmp/old/apps/server/dist/main.js node apps/bench/dist/ab.js [rounds] [format] [clients] [puts] [dir]
 *
 * `dir` is where the data directories go (default the system temp directory; `/dev/shm` leaves the disk out).
 * `PROF=<dir>` runs the servers under `node --cpu-prof`.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@proj/protocol';
import type { DictFormat } from '@proj/protocol/dict';
import { dictOfSize } from './rows/dicts';
import { startServerProcess } from './server-process';
import { quantile } from './stats';

/**
 * utime and stime of a process, in seconds (USER_HZ is 100 on Linux); with `thread`, of that thread only (the
 * main thread's id is the process id: its time is the event loop's, without the thread pool's and V8's helpers).
 */
function cpuSeconds(pid: number, thread?: number): { user: number; sys: number } {
  const path = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  const fields = (readFileSync(path, 'utf8').split(') ')[1] ?? '').split(' ');
  return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
}

async function run(main: string | undefined, format: DictFormat, clients: number, puts: number, base: string) {
  if (main) process.env.BENCH_SERVER_MAIN = main;
  else delete process.env.BENCH_SERVER_MAIN;
  const dir = await mkdtemp(join(base, 'proj-ab-'));
  const server = await startServerProcess({
    dataDir: join(dir, 'data'),
    logDir: dir,
    flags: ['--max-per-address', String(clients * 2)],
    ...(process.env.PROF ? { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', process.env.PROF] } : {}),
  });
  try {
    const dict = dictOfSize(format);
    const conns = await Promise.all(
      Array.from({ length: clients }, () => connect({ host: server.host, port: server.port })),
    );
    let left = Math.ceil(puts / 4);
    const latencies: number[] = [];
    const load = (measure: boolean) =>
      Promise.all(
        conns.map(async (c) => {
          while (left-- > 0) {
            const t0 = performance.now();
            await c.sendDict(dict, { format });
            if (measure) latencies.push(performance.now() - t0);
          }
        }),
      );
    await load(false); // warm-up
    left = puts;
    const c0 = cpuSeconds(server.pid);
    const m0 = cpuSeconds(server.pid, server.pid);
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    await load(true);
    const seconds = (performance.now() - t0) / 1000;
    const c1 = cpuSeconds(server.pid);
    const m1 = cpuSeconds(server.pid, server.pid);
    const own = process.cpuUsage(own0);
    await Promise.all(conns.map((c) => c.close()));
    latencies.sort((a, b) => a - b);
    return {
      userUs: ((c1.user - c0.user) / puts) * 1e6,
      sysUs: ((c1.sys - c0.sys) / puts) * 1e6,
      mainUs: ((m1.user - m0.user + m1.sys - m0.sys) / puts) * 1e6,
      clientUs: (own.user + own.system) / puts,
      perSecond: puts / seconds,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
    };
  } finally {
    await server.stop();
    // Removed when all runs are over: deleting thousands of files slows the next run's creations on this VM's
    // ext4 (./rows/dicts.ts, dictRows).
    leftovers.push(dir);
  }
}

const leftovers: string[] = [];

async function main(): Promise<void> {
  const [rounds = '3', format = 'json', clients = '32', puts = '20000', base = tmpdir()] = process.argv.slice(2);
  const builds: Array<[string, string | undefined]> = [['this', undefined]];
  if (process.env.OLD_MAIN) builds.push(['other', process.env.OLD_MAIN]);
  for (let r = 0; r < Number(rounds); r++) {
    for (const [name, path] of builds) {
      const x = await run(path, format as DictFormat, Number(clients), Number(puts), base);
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      process.stdout.write(
        `${name} ${format} ${clients} clients: CPU per ack user ${x.userUs.toFixed(0)} µs + sys ${x.sysUs.toFixed(0)} µs = ${(x.userUs + x.sysUs).toFixed(0)} µs (main thread ${x.mainUs.toFixed(0)} µs), clients ${x.clientUs.toFixed(0)} µs | ${x.perSecond.toFixed(0)}/s, p50 ${x.p50.toFixed(2)} ms, p99 ${x.p99.toFixed(2)} ms | load ${load}\n`,
      );
    }
  }
}

main()
  .finally(() => Promise.all(leftovers.map((dir) => rm(dir, { recursive: true, force: true }))))
  .catch((err: unknown) => {
    process.stderr.write(`ab: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
