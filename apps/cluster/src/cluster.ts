/**
 * A local cluster (docs/SCALE-OUT.md "pnpm cluster"): three nats-server nodes, three of our servers with
 * `--proxy-protocol`, and HAProxy in front, on loopback ports from one base port. `up` starts them in that order,
 * each once the previous part is ready, and records every pid in the run directory's state.json as it goes (so
 * `down` can stop a cluster that failed half-way); `status` asks each part; `down` stops them in reverse order.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import {
  allPorts,
  HAPROXY_CONFIG,
  haproxyEnv,
  NATS_CONFIG,
  natsEnv,
  natsUrls,
  portsFrom,
  type Ports,
  runPaths,
  SERVER_MAIN,
  SIZE,
} from './layout';
import { type BackendState, haproxyBackends, natsHealthy, natsMetaLeader, probeServer } from './probes';
import { isAlive, type Launch, startDetached, stopProcess, waitUntil } from './processes';

/** Where items go: the JetStream cluster (`--store nats://...`), or one data directory the three servers share. */
export type StoreKind = 'nats' | 'local';

export interface ClusterProcess {
  name: string;
  role: 'nats' | 'server' | 'haproxy';
  pid: number;
  /** The port it serves clients on (nats: client port; HAProxy: the frontend). */
  port: number;
  log: string;
  /** How it was started, so that it can be started again (`restartProcess`). */
  launch: Launch;
}

export interface ClusterState {
  runDir: string;
  basePort: number;
  ports: Ports;
  store: StoreKind;
  /** What clients connect to. */
  address: string;
  startedAt: string;
  processes: ClusterProcess[];
}

export interface UpOptions {
  runDir: string;
  basePort: number;
  /** Default: `nats` when the server has `--store`, else `local`. */
  store?: StoreKind;
  /** GOMEMLIMIT of each nats-server node; default 256MiB. */
  natsMemLimit?: string;
  /** Extra flags for each of our servers (tests: shorter timeouts). */
  serverArgs?: string[];
  /** Per part; default 20 s. */
  readyTimeoutMs?: number;
}

export class ClusterError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ClusterError';
    this.code = code;
  }
}

/** A program on the PATH or in /usr/sbin (Debian puts nats-server and haproxy there), or undefined. */
export function findProgram(name: string): string | undefined {
  try {
    const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    if (found !== '') return found;
  } catch {
    // not on the PATH
  }
  return existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : undefined;
}

/** Whether our server takes `--store` (the JetStream store). */
export function serverHasStoreOption(): boolean {
  const help = execFileSync(process.execPath, [SERVER_MAIN, 'serve', '--help'], { encoding: 'utf8' });
  return /\s--store\s/.test(help);
}

export async function readState(runDir: string): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(await readFile(runPaths(runDir).state, 'utf8')) as ClusterState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeState(state: ClusterState): Promise<void> {
  await writeFile(runPaths(state.runDir).state, `${JSON.stringify(state, null, 2)}\n`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Starts the cluster; resolves with its state once HAProxy sees every server up. */
export async function up(options: UpOptions): Promise<ClusterState> {
  const { runDir, basePort } = options;
  const previous = await readState(runDir);
  if (previous?.processes.some((p) => isAlive(p.pid))) {
    throw new ClusterError('ERR_CLUSTER_RUNNING', `a cluster is already up in ${runDir} (pnpm cluster down first)`);
  }
  const natsServer = findProgram('nats-server');
  const haproxy = findProgram('haproxy');
  const missing = [natsServer ? '' : 'nats-server', haproxy ? '' : 'haproxy'].filter(Boolean);
  if (natsServer === undefined || haproxy === undefined) {
    throw new ClusterError(
      'ERR_CLUSTER_TOOLS',
      `${missing.join(' and ')} not installed: sudo apt-get install -y nats-server haproxy (README: Tests)`,
    );
  }
  if (!existsSync(SERVER_MAIN)) {
    throw new ClusterError('ERR_CLUSTER_BUILD', `${SERVER_MAIN} is missing: pnpm --filter server build`);
  }
  const ports = portsFrom(basePort);
  for (const port of allPorts(ports)) {
    if (!(await portFree(port))) {
      throw new ClusterError('ERR_CLUSTER_PORT', `port ${port} on 127.0.0.1 is taken; choose another --base-port`);
    }
  }
  const store = options.store ?? (serverHasStoreOption() ? 'nats' : 'local');
  const paths = runPaths(runDir);
  await mkdir(runDir, { recursive: true });
  const state: ClusterState = {
    runDir,
    basePort,
    ports,
    store,
    address: `127.0.0.1:${ports.balancer}`,
    startedAt: new Date().toISOString(),
    processes: [],
  };
  const timeout = options.readyTimeoutMs ?? 20_000;
  const launch = async (role: ClusterProcess['role'], port: number, spec: Launch): Promise<void> => {
    const pid = startDetached(spec);
    state.processes.push({ name: spec.name, role, pid, port, log: spec.log, launch: spec });
    await writeState(state);
  };

  try {
    for (let i = 0; i < SIZE; i++) {
      await mkdir(paths.natsStore(i), { recursive: true });
      await launch('nats', ports.nats[i] as number, {
        name: `nats-${i + 1}`,
        command: natsServer,
        args: ['-c', NATS_CONFIG],
        env: { ...natsEnv(ports, runDir, i), GOMEMLIMIT: options.natsMemLimit ?? '256MiB' },
        log: paths.log(`nats-${i + 1}`),
      });
    }
    await waitUntil(
      'nats-server nodes healthy with a JetStream meta leader',
      async () =>
        (await Promise.all(ports.natsMonitor.map(natsHealthy))).every(Boolean) &&
        (await natsMetaLeader(ports.natsMonitor[0] as number)) !== undefined,
      timeout,
    );

    const serverSpec = (i: number): Launch => ({
      name: `server-${i + 1}`,
      command: process.execPath,
      args: [
        SERVER_MAIN,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(ports.servers[i]),
        '--proxy-protocol',
        '--no-prompt',
        '--output',
        'file',
        '--log-level',
        'info',
        '--identity',
        paths.identity,
        '--data-dir',
        store === 'local' ? paths.sharedData : paths.serverData(i),
        ...(store === 'nats' ? ['--store', natsUrls(ports)] : []),
        ...(options.serverArgs ?? []),
      ],
      env: {},
      log: paths.log(`server-${i + 1}`),
    });
    // The first server creates the shared age identity (and, with the nats store, its buckets); then the others.
    await launch('server', ports.servers[0] as number, serverSpec(0));
    await waitUntil('server-1 welcomes', async () => await probeServer(ports.servers[0] as number), timeout);
    for (let i = 1; i < SIZE; i++) await launch('server', ports.servers[i] as number, serverSpec(i));
    for (let i = 1; i < SIZE; i++) {
      const port = ports.servers[i] as number;
      await waitUntil(`server-${i + 1} welcomes`, () => probeServer(port), timeout);
    }

    await launch('haproxy', ports.balancer, {
      name: 'haproxy',
      command: haproxy,
      args: ['-db', '-f', HAPROXY_CONFIG],
      env: haproxyEnv(ports, runDir),
      log: paths.log('haproxy'),
    });
    await waitUntil(
      'HAProxy sees every server up',
      async () => (await haproxyBackends(paths.stats))?.filter((b) => b.status === 'UP').length === SIZE,
      timeout,
    );
  } catch (err) {
    await down(runDir).catch(() => undefined);
    throw new ClusterError(
      'ERR_CLUSTER_START',
      `the cluster did not come up: ${(err as Error).message}; logs in ${runDir}/logs`,
    );
  }
  return state;
}

/** Stops every process of the cluster in `runDir` (HAProxy, then the servers, then the nodes). */
export async function down(runDir: string): Promise<ClusterProcess[]> {
  const state = await readState(runDir);
  if (state === undefined) return [];
  const order: ClusterProcess['role'][] = ['haproxy', 'server', 'nats'];
  for (const role of order) {
    await Promise.all(state.processes.filter((p) => p.role === role).map((p) => stopProcess(p.pid, 'SIGTERM', 10_000)));
  }
  await rm(runPaths(runDir).state, { force: true });
  await rm(runPaths(runDir).stats, { force: true });
  return state.processes;
}

export interface ProcessStatus extends ClusterProcess {
  alive: boolean;
  /** nats: healthy (and `leader` when it leads the meta group); server: answers a hello; HAProxy: answers stats. */
  ready: boolean;
  /** nats only: whether this node is the JetStream meta leader. */
  leader?: boolean;
  /** server only: HAProxy's view (`UP`, `DOWN`, ...). */
  balancer?: string;
}

export interface ClusterStatus {
  state: ClusterState;
  processes: ProcessStatus[];
}

/** Asks every part of the cluster in `runDir`; undefined when no cluster was started there. */
export async function status(runDir: string): Promise<ClusterStatus | undefined> {
  const state = await readState(runDir);
  if (state === undefined) return undefined;
  const backends: BackendState[] = (await haproxyBackends(runPaths(runDir).stats)) ?? [];
  let leader: string | undefined;
  for (const port of state.ports.natsMonitor) {
    leader ??= await natsMetaLeader(port);
  }
  const processes = await Promise.all(
    state.processes.map(async (p): Promise<ProcessStatus> => {
      const alive = isAlive(p.pid);
      const index = Number(p.name.split('-')[1]) - 1;
      if (p.role === 'nats') {
        const monitor = state.ports.natsMonitor[index] as number;
        return { ...p, alive, ready: alive && (await natsHealthy(monitor)), leader: leader === `n${index + 1}` };
      }
      if (p.role === 'server') {
        const balancer = backends.find((b) => b.name === `s${index + 1}`)?.status ?? 'unknown';
        return { ...p, alive, ready: alive && (await probeServer(p.port)), balancer };
      }
      return { ...p, alive, ready: alive && backends.length > 0 };
    }),
  );
  return { state, processes };
}

/** Starts a process of the cluster again, as it was started (after `signalProcess`); returns its new pid. */
export async function restartProcess(runDir: string, name: string): Promise<number> {
  const state = await readState(runDir);
  const p = state?.processes.find((q) => q.name === name);
  if (!state || !p) throw new ClusterError('ERR_CLUSTER_PROCESS', `no process ${name} in ${runDir}`);
  if (isAlive(p.pid)) throw new ClusterError('ERR_CLUSTER_RUNNING', `${name} is running (pid ${p.pid})`);
  p.pid = startDetached(p.launch);
  await writeState(state);
  return p.pid;
}

/** Sends `signal` to one process of the cluster by name (`server-2`, `nats-1`): failover tests. */
export async function signalProcess(runDir: string, name: string, signal: NodeJS.Signals): Promise<void> {
  const state = await readState(runDir);
  const p = state?.processes.find((q) => q.name === name);
  if (!p) throw new ClusterError('ERR_CLUSTER_PROCESS', `no process ${name} in ${runDir}`);
  await stopProcess(p.pid, signal, 10_000);
}
