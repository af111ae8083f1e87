/**
 * The cluster (docs/SCALE-OUT.md): 200-byte dictionaries from 32 clients and a large file, sent through HAProxy to
 * three servers that store into a 3-node JetStream cluster, all started by `pnpm cluster up` (apps/cluster) on
 * loopback. Baseline from the same run: the same load against one server with the local store (fsynced journal),
 * connected directly. Everything shares the same 2 cores: the cluster runs seven processes where the baseline
 * runs one, so the ratio is what the replicated store costs on one machine, not what three hosts would give.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { formatBytes } from '@proj/cli-kit';
import { connect, type Client } from '@proj/protocol';
import type { BenchConfig } from '../config';
import { writeRandomFile } from '../files';
import { runLoad, type LoadResult } from '../load';
import { builtProgram } from '../paths';
import { BenchError, settleDisk } from '../proc';
import { startServerProcess } from '../server-process';
import { Better, type Row } from '../table';
import { formatMs, formatPerSecond, formatRate, MiB } from '../units';
import { DICT_BYTES, DICT_TARGET_CLIENTS, dictOfSize } from './dicts';

const run = promisify(execFile);
const CLUSTER_MAIN = 'apps/cluster/dist/main.js';

/** Where to send: a host and port, and how to stop it afterwards. */
interface Target {
  host: string;
  port: number;
  stop(): Promise<void>;
}

interface Measured {
  dicts: LoadResult;
  fileSeconds: number;
}

export async function clusterRows(config: BenchConfig): Promise<Row[]> {
  const missing = ['nats-server', 'haproxy'].filter((p) => !installed(p));
  if (missing.length > 0) {
    config.progress(`cluster: skipped, ${missing.join(' and ')} not installed`);
    const skipped = `skipped: ${missing.join(' and ')} not installed (README: Tests)`;
    return [{ name: 'cluster rows', ours: '—', baseline: '—', better: Better.Higher, target: '', note: skipped }];
  }
  const fileBytes = Math.min(config.fileBytes, config.quick ? 64 * MiB : 256 * MiB);
  const src = join(config.workDir, 'cluster-file.bin');
  config.progress(`cluster: writing ${formatBytes(fileBytes)} of random data`);
  const sha = await writeRandomFile(src, fileBytes);
  try {
    config.progress('cluster: baseline, one server with the local store');
    const dataDir = join(config.workDir, 'data-cluster-baseline');
    const local = await startServerProcess({ dataDir, logDir: config.workDir });
    const base = await measure(
      config,
      { host: local.host, port: local.port, stop: () => local.stop() },
      src,
      sha,
      fileBytes,
    );
    await rm(dataDir, { recursive: true, force: true });
    config.progress('cluster: pnpm cluster up (3 nats-server nodes, 3 servers, HAProxy)');
    const ours = await measure(config, await clusterUp(config), src, sha, fileBytes);
    const note = 'through HAProxy to 3 servers, store: 3 nats-server nodes (R3), all on this machine’s 2 cores';
    return [
      {
        name: `cluster: dict json ${DICT_BYTES} B, ${DICT_TARGET_CLIENTS} clients, acks/s`,
        ours: formatPerSecond(ours.dicts.perSecond),
        baseline: `one server, local store ${formatPerSecond(base.dicts.perSecond)}`,
        ratio: ours.dicts.perSecond / base.dicts.perSecond,
        better: Better.Higher,
        target: '',
        note,
      },
      {
        name: `cluster: dict json ${DICT_BYTES} B, ${DICT_TARGET_CLIENTS} clients, p50 / p99`,
        ours: `${formatMs(ours.dicts.p50Ms)} / ${formatMs(ours.dicts.p99Ms)}`,
        baseline: `one server ${formatMs(base.dicts.p50Ms)} / ${formatMs(base.dicts.p99Ms)}`,
        ratio: ours.dicts.p50Ms / base.dicts.p50Ms,
        better: Better.Lower,
        target: '',
      },
      {
        name: `cluster: file ${formatBytes(fileBytes)}, stored`,
        ours: formatRate(fileBytes / ours.fileSeconds),
        baseline: `one server, local store ${formatRate(fileBytes / base.fileSeconds)}`,
        ratio: base.fileSeconds / ours.fileSeconds,
        better: Better.Higher,
        target: '',
        note: 'one client; timed from connect() to the checked receipt (in the cluster: in the log of 2 of 3 nodes)',
      },
    ];
  } finally {
    await rm(src, { force: true });
  }
}

/** The dictionary load, then the file, against `target`; stops it at the end. */
async function measure(config: BenchConfig, target: Target, src: string, sha: string, size: number): Promise<Measured> {
  try {
    const format = 'json';
    const dict = dictOfSize(format);
    await settleDisk();
    const clients: Client[] = await Promise.all(
      Array.from({ length: DICT_TARGET_CLIENTS }, () => connect({ host: target.host, port: target.port })),
    );
    let dicts: LoadResult;
    try {
      const workers = clients.map((c) => () => c.sendDict(dict, { format }));
      dicts = await runLoad({ workers, warmupMs: config.warmupMs, durationMs: config.loadMs });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    await settleDisk();
    const started = process.hrtime.bigint();
    const client = await connect({ host: target.host, port: target.port });
    const receipt = await client.sendFile(src, { name: 'cluster-file.bin' });
    const fileSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    await client.close();
    if (receipt.sha256 !== sha || receipt.bytes !== size) {
      throw new BenchError('ERR_BENCH', `cluster file: the receipt does not match the file sent`);
    }
    return { dicts, fileSeconds };
  } finally {
    await target.stop();
  }
}

/** Whether a program is on the PATH or in /usr/sbin, where Debian puts nats-server and haproxy. */
function installed(program: string): boolean {
  const path = `${process.env.PATH ?? ''}:/usr/sbin`.split(':');
  return path.some((dir) => dir !== '' && existsSync(join(dir, program)));
}

/** `pnpm cluster up` in a run directory of this bench run, on a free base port. */
async function clusterUp(config: BenchConfig): Promise<Target> {
  const main = builtProgram(CLUSTER_MAIN);
  const runDir = join(config.workDir, 'cluster');
  for (let attempt = 0; ; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 3_000) * 10;
    try {
      await run(process.execPath, [main, 'up', '--run-dir', runDir, '--base-port', String(base)]);
      return {
        host: '127.0.0.1',
        port: base,
        stop: async () => {
          await run(process.execPath, [main, 'down', '--run-dir', runDir]);
        },
      };
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '');
      if (attempt < 5 && /is taken/.test(stderr)) continue;
      throw new BenchError('ERR_BENCH', `pnpm cluster up failed: ${stderr.trim() || (err as Error).message}`);
    }
  }
}
