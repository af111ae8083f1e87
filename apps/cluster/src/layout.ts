/**
 * Where a local cluster lives: its ports (all from one base port, on loopback) and its run directory (state,
 * logs, stores). The configuration files are the repository's `cluster/haproxy.cfg` and `cluster/nats.conf`,
 * filled from the environment this module computes.
 */
import { join, resolve } from 'node:path';

/** The repository's root, from this file (`apps/cluster/src` or `apps/cluster/dist`). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const HAPROXY_CONFIG = join(REPO_ROOT, 'cluster', 'haproxy.cfg');
export const NATS_CONFIG = join(REPO_ROOT, 'cluster', 'nats.conf');
export const SERVER_MAIN = join(REPO_ROOT, 'apps', 'server', 'dist', 'main.js');
/** `pnpm cluster` keeps its run directory here unless told otherwise (ignored by git). */
export const DEFAULT_RUN_DIR = join(REPO_ROOT, '.cluster');
/** Clients connect to this port; the others follow from it (see `portsFrom`). */
export const DEFAULT_BASE_PORT = 7050;
/** The three nodes and three servers of a local cluster. */
export const SIZE = 3;
/** How many ports from the base a cluster uses. */
export const PORT_SPAN = 40;

export interface Ports {
  /** HAProxy's frontend: the address clients use. */
  balancer: number;
  servers: number[];
  nats: number[];
  natsCluster: number[];
  natsMonitor: number[];
}

/** Base: the balancer; base+1..3 our servers; base+10.. nats clients, base+20.. routes, base+30.. monitoring. */
export function portsFrom(base: number): Ports {
  const three = (offset: number): number[] => Array.from({ length: SIZE }, (_, i) => base + offset + i);
  return {
    balancer: base,
    servers: three(1),
    nats: three(10),
    natsCluster: three(20),
    natsMonitor: three(30),
  };
}

export function allPorts(ports: Ports): number[] {
  return [ports.balancer, ...ports.servers, ...ports.nats, ...ports.natsCluster, ...ports.natsMonitor];
}

/** The files of a run directory. */
export function runPaths(runDir: string): {
  state: string;
  stats: string;
  identity: string;
  log: (name: string) => string;
  natsStore: (i: number) => string;
  serverData: (i: number) => string;
  sharedData: string;
} {
  return {
    state: join(runDir, 'state.json'),
    stats: join(runDir, 'haproxy.sock'),
    identity: join(runDir, 'identity.txt'),
    log: (name) => join(runDir, 'logs', `${name}.log`),
    natsStore: (i) => join(runDir, `nats-${i + 1}`),
    serverData: (i) => join(runDir, `server-${i + 1}`),
    sharedData: join(runDir, 'data'),
  };
}

/** The environment `cluster/nats.conf` reads for node `i`. */
export function natsEnv(ports: Ports, runDir: string, i: number): Record<string, string> {
  const others = [0, 1, 2].filter((j) => j !== i);
  const route = (j: number): string => `nats-route://127.0.0.1:${ports.natsCluster[j]}`;
  return {
    PROJ_NATS_NAME: `n${i + 1}`,
    PROJ_NATS_HOST: '127.0.0.1',
    PROJ_NATS_PORT: String(ports.nats[i]),
    PROJ_NATS_MONITOR_PORT: String(ports.natsMonitor[i]),
    PROJ_NATS_CLUSTER_PORT: String(ports.natsCluster[i]),
    PROJ_NATS_ROUTE_A: route(others[0] as number),
    PROJ_NATS_ROUTE_B: route(others[1] as number),
    PROJ_NATS_STORE: runPaths(runDir).natsStore(i),
  };
}

/** The environment `cluster/haproxy.cfg` reads. */
export function haproxyEnv(ports: Ports, runDir: string): Record<string, string> {
  return {
    PROJ_LB_BIND: `127.0.0.1:${ports.balancer}`,
    PROJ_LB_STATS: runPaths(runDir).stats,
    PROJ_SERVER1: `127.0.0.1:${ports.servers[0]}`,
    PROJ_SERVER2: `127.0.0.1:${ports.servers[1]}`,
    PROJ_SERVER3: `127.0.0.1:${ports.servers[2]}`,
  };
}

/** What `--store` takes: every node's client URL. */
export function natsUrls(ports: Ports): string {
  return ports.nats.map((p) => `nats://127.0.0.1:${p}`).join(',');
}
