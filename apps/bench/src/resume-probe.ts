#!/usr/bin/env node
/**
 * Where a resume's time goes, for a machine too busy for `pnpm bench`'s wall times: the resume row's three steps
 * (a file sent whole, the same file cut at 50 %, then resumed by a new client) with each step's wall time, the
 * time to `ready` of the resume, and the CPU time of the server (utime and stime from /proc) and of this process
 * (the client library). The other tenants disturb CPU time far less than wall time.
 *
 *   node apps/bench/dist/resume-probe.js [MiB] [rounds] [dir]
 *
 * `BENCH_SERVER_MAIN=<dist/main.js>` runs another build of the server; `PROF=<dir>` runs it under `--cpu-prof`
 * (run this script with `node --cpu-prof` for the client's profile). `RESTART=1` restarts the server between the
 * cut and the resume (the prefix's hash state is then not in memory). `REREAD=1` sets the source file's times again
 * (to the same values: its change time moves) so that the client re-reads its prefix, as a client in another
 * process does.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, utimes } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@proj/protocol';
import { writeRandomFile } from './files';
import { sendHalf } from './rows/resume';
import { startServerProcess, type ServerProcess } from './server-process';

/** utime and stime of a process, in seconds (USER_HZ is 100 on Linux). */
function serverCpu(pid: number): { user: number; sys: number } {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
}

function clientCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface Step {
  wall: number;
  server: number;
  serverSys: number;
  client: number;
}

async function step(server: () => ServerProcess, body: () => Promise<void>): Promise<Step> {
  const s0 = serverCpu(server().pid);
  const c0 = clientCpu();
  const t0 = performance.now();
  const us0 = process.hrtime.bigint() / 1000n;
  await body();
  // The window in the clock of V8's CPU profiles (CLOCK_MONOTONIC, µs), to cut a step out of a profile.
  if (process.env.PROF) process.stdout.write(`window ${us0}-${process.hrtime.bigint() / 1000n}\n`);
  const s1 = serverCpu(server().pid);
  return {
    wall: (performance.now() - t0) / 1000,
    server: s1.user + s1.sys - s0.user - s0.sys,
    serverSys: s1.sys - s0.sys,
    client: clientCpu() - c0,
  };
}

const fmt = (s: Step) =>
  `${s.wall.toFixed(2)} s (server ${s.server.toFixed(2)} [sys ${s.serverSys.toFixed(2)}], client ${s.client.toFixed(2)} CPU-s)`;

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 1024);
  const rounds = Number(process.argv[3] ?? 1);
  const base = process.argv[4] ?? tmpdir();
  const size = mib * 1024 * 1024;
  const dir = await mkdtemp(join(base, 'proj-resume-probe-'));
  const src = join(dir, 'resume.bin');
  await writeRandomFile(src, size);
  const dataDir = join(dir, 'data');
  const start = () =>
    startServerProcess({
      dataDir,
      logDir: dir,
      ...(process.env.PROF ? { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', process.env.PROF] } : {}),
    });
  let server = await start();
  try {
    for (let round = 0; round < rounds; round++) {
      const load = loadavg()[0]?.toFixed(1);
      const whole = await step(
        () => server,
        async () => {
          const c = await connect({ host: server.host, port: server.port });
          await c.sendFile(src, { id: `whole-${round}`, name: 'resume.bin' });
          await c.close();
        },
      );
      const id = `cut-${round}`;
      const cut = await step(
        () => server,
        () => sendHalf(server, src, id, size),
      );
      if (process.env.REREAD) {
        const { atime, mtime } = await stat(src);
        await utimes(src, atime, mtime);
      }
      if (process.env.RESTART) {
        await new Promise((r) => setTimeout(r, 500));
        await server.stop();
        server = await start();
      }
      let readyAt = 0;
      let held = 0;
      const t0 = performance.now();
      const resumed = await step(
        () => server,
        async () => {
          const c = await connect({ host: server.host, port: server.port });
          c.on('resume', (e) => {
            readyAt = (performance.now() - t0) / 1000;
            held = e.offset;
          });
          await c.sendFile(src, { id, name: 'resume.bin' });
          await c.close();
        },
      );
      process.stdout.write(
        `round ${round + 1} load ${load}: whole ${fmt(whole)}; cut ${fmt(cut)}; resume ${fmt(resumed)}, ` +
          `ready after ${readyAt.toFixed(2)} s at ${(held / 1024 / 1024).toFixed(0)} MiB; ` +
          `ratio ${(resumed.wall / whole.wall).toFixed(2)} wall, ` +
          `${((resumed.server + resumed.client) / (whole.server + whole.client)).toFixed(2)} CPU\n`,
      );
      await rm(join(dataDir, 'files'), { recursive: true, force: true });
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
