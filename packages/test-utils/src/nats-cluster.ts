/**
 * A real NATS JetStream cluster for tests: `nodes` `nats-server` processes on loopback ports, each with its own
 * configuration file and store directory in one temporary directory, memory capped with GOMEMLIMIT. Ready means
 * every node answers its monitoring `/healthz` and the JetStream meta group has a leader, so a KV or object
 * store can be created at once. Nodes can be killed (`kill -9` included) and started again on the same ports and
 * directories, for failover tests.
 *
 * Tests that need it call `findNatsServer()` first and skip with a printed reason when it is missing.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { makeTempDir } from './temp-dir';

export interface NatsClusterOptions {
  /** Number of nodes; default 3. */
  nodes?: number;
  /** Largest message a client may publish, in bytes; default 4 MiB (a 1 MiB dictionary and its receipt fit). */
  maxPayload?: number;
  /** GOMEMLIMIT of each node; default `256MiB`. */
  memLimit?: string;
  /** `jetstream { sync_interval: always }` (nats-server 2.10+ only; 2.9 refuses the key). */
  syncAlways?: boolean;
  /** Clients must log in with this user and password. */
  auth?: { user: string; password: string };
  /** The program; default `nats-server` on the PATH (or /usr/sbin/nats-server). */
  binary?: string;
  /** How long to wait for readiness; default 15 s. */
  readyTimeoutMs?: number;
}

export interface NatsNode {
  name: string;
  /** Client port on 127.0.0.1. */
  port: number;
  clusterPort: number;
  monitorPort: number;
  /** `nats://127.0.0.1:<port>`. */
  url: string;
  /** This node's JetStream store directory. */
  storeDir: string;
  configFile: string;
  /** The running process, undefined while the node is stopped. */
  process: ChildProcess | undefined;
  /** What the node printed (stderr and stdout), for failure messages. */
  output(): string;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's URL, comma-separated: what `--store` takes. */
  url: string;
  urls: string[];
  /** The temporary directory holding configurations and stores. */
  dir: string;
  /** Stops a node with `signal` (default SIGKILL) and waits for its exit. */
  stopNode(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped node again on its ports and directory, and waits until it answers `/healthz`. */
  startNode(index: number): Promise<void>;
  /** Waits until every running node answers `/healthz` and the meta group has a leader. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** A node's monitoring JSON (`/jsz`, `/varz`, …), or undefined when it does not answer. */
  monitor(index: number, path: string): Promise<unknown>;
  /** The name of the meta group's leader, as a running node sees it. */
  metaLeader(): Promise<string | undefined>;
  /** Stops every node (SIGTERM, then SIGKILL after 3 s) and removes the directory. */
  stop(): Promise<void>;
}

/** The nats-server program to run, or undefined when none is installed. */
export function findNatsServer(binary?: string): string | undefined {
  if (binary !== undefined) return existsSync(binary) ? binary : undefined;
  try {
    const found = execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim();
    if (found !== '') return found;
  } catch {
    // not on the PATH
  }
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : undefined;
}

/** The version nats-server reports (`2.9.10`), or undefined. */
export function natsServerVersion(binary?: string): string | undefined {
  const program = findNatsServer(binary);
  if (program === undefined) return undefined;
  const out = execFileSync(program, ['--version'], { encoding: 'utf8' });
  return /v(\d+\.\d+\.\d+)/.exec(out)?.[1];
}

/** A free TCP port on 127.0.0.1 (bound, then released: another process could take it, rarely). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function configText(node: NatsNode, all: NatsNode[], options: NatsClusterOptions): string {
  const routes = all.filter((n) => n !== node).map((n) => `nats-route://127.0.0.1:${n.clusterPort}`);
  const lines = [
    `server_name: ${node.name}`,
    `listen: 127.0.0.1:${node.port}`,
    `http: 127.0.0.1:${node.monitorPort}`,
    `max_payload: ${options.maxPayload ?? 4 * 1024 * 1024}`,
    'jetstream {',
    `  store_dir: ${JSON.stringify(node.storeDir)}`,
    '  max_memory_store: 64MB',
    '  max_file_store: 4GB',
    ...(options.syncAlways ? ['  sync_interval: always'] : []),
    '}',
    'cluster {',
    '  name: test',
    `  listen: 127.0.0.1:${node.clusterPort}`,
    `  routes: [${routes.join(', ')}]`,
    '}',
  ];
  if (options.auth) {
    lines.push(
      'authorization {',
      `  user: ${JSON.stringify(options.auth.user)}`,
      `  password: ${JSON.stringify(options.auth.password)}`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Starts a cluster in a fresh temporary directory and resolves once it is ready. Throws (after stopping what it
 * started) when nats-server is missing or the cluster is not ready in time.
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const program = findNatsServer(options.binary);
  if (program === undefined) throw new Error('nats-server is not installed');
  const count = options.nodes ?? 3;
  const temp = await makeTempDir('proj-nats-');
  const nodes: NatsNode[] = [];
  const outputs: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `n${i + 1}`;
    const port = await freePort();
    outputs.push('');
    nodes.push({
      name,
      port,
      clusterPort: await freePort(),
      monitorPort: await freePort(),
      url: `nats://127.0.0.1:${port}`,
      storeDir: join(temp.path, name, 'js'),
      configFile: join(temp.path, name, 'nats.conf'),
      process: undefined,
      output: () => outputs[i] ?? '',
    });
  }
  for (const node of nodes) {
    await mkdir(node.storeDir, { recursive: true });
    await writeFile(node.configFile, configText(node, nodes, options));
  }

  const launch = (index: number): void => {
    const node = nodes[index] as NatsNode;
    const child = spawn(program, ['-c', node.configFile], {
      env: { ...process.env, GOMEMLIMIT: options.memLimit ?? '256MiB' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => {
      // The last 64 KiB is enough to say why a node failed.
      outputs[index] = ((outputs[index] ?? '') + chunk.toString('utf8')).slice(-65536);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', () => {
      if (node.process === child) node.process = undefined;
    });
    node.process = child;
  };

  const monitor = async (index: number, path: string): Promise<unknown> => {
    const node = nodes[index] as NatsNode;
    try {
      const response = await fetch(`http://127.0.0.1:${node.monitorPort}${path}`, {
        signal: AbortSignal.timeout(1000),
      });
      return response.ok ? await response.json() : undefined;
    } catch {
      return undefined;
    }
  };

  const metaLeader = async (): Promise<string | undefined> => {
    for (let i = 0; i < nodes.length; i++) {
      if (nodes[i]?.process === undefined) continue;
      const jsz = (await monitor(i, '/jsz')) as { meta_cluster?: { leader?: string } } | undefined;
      const leader = jsz?.meta_cluster?.leader;
      if (leader) return leader;
    }
    return undefined;
  };

  const healthy = async (index: number): Promise<boolean> => {
    const health = (await monitor(index, '/healthz')) as { status?: string } | undefined;
    return health?.status === 'ok';
  };

  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) {
        const logs = nodes.map((n) => `--- ${n.name}\n${n.output().slice(-2000)}`).join('\n');
        throw new Error(`nats cluster: ${what} not reached in ${timeoutMs} ms\n${logs}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const waitReady = async (timeoutMs = options.readyTimeoutMs ?? 15_000): Promise<void> => {
    await waitFor(
      'every node healthy',
      async () => {
        const running = nodes.map((n, i) => (n.process === undefined ? true : healthy(i)));
        return (await Promise.all(running)).every(Boolean);
      },
      timeoutMs,
    );
    await waitFor('a meta leader', async () => (await metaLeader()) !== undefined, timeoutMs);
  };

  const stopNode = async (index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const child = nodes[index]?.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  const startNode = async (index: number): Promise<void> => {
    if (nodes[index]?.process !== undefined) return;
    launch(index);
    await waitFor(`${nodes[index]?.name} healthy`, () => healthy(index), options.readyTimeoutMs ?? 15_000);
  };

  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((_, i) => stopNode(i, 'SIGTERM')));
    await temp.remove();
  };

  for (let i = 0; i < count; i++) launch(i);
  try {
    await waitReady();
  } catch (err) {
    await stop();
    throw err;
  }
  const urls = nodes.map((n) => n.url);
  return {
    nodes,
    urls,
    url: urls.join(','),
    dir: temp.path,
    stopNode,
    startNode,
    waitReady,
    monitor,
    metaLeader,
    stop,
  };
}
