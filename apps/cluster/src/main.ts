#!/usr/bin/env node
/**
 * `pnpm cluster up|down|status` (docs/SCALE-OUT.md "pnpm cluster"), and the one error boundary: a usage error
 * exits 2 with the usage, a cluster that does not come up exits 1 with the reason and where its logs are.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePort, UsageError } from '@proj/cli-kit';
import { down, status, up, type ClusterStatus, type StoreKind } from './cluster';
import { DEFAULT_BASE_PORT, DEFAULT_RUN_DIR } from './layout';

const USAGE = `usage: pnpm cluster <up|down|status> [options]
  up       start 3 nats-server nodes, 3 servers (--proxy-protocol) and HAProxy on loopback; print the address
  down     stop them all (data and logs stay in the run directory)
  status   show each process, HAProxy's view of each server and the JetStream meta leader
options:
  --run-dir <dir>     state, logs and stores (default: .cluster in the repository)
  --base-port <n>     clients connect here; the other ports follow (default ${DEFAULT_BASE_PORT}; up only)
  --store <nats|local>  where the servers store (default: nats when the server has --store; up only)
  --json              status as JSON
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'run-dir': { type: 'string' },
      'base-port': { type: 'string' },
      store: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  // Under `pnpm cluster` the program runs in the repository's root; a relative --run-dir is the user's.
  const runDir = values['run-dir'] ? resolve(process.env.INIT_CWD ?? '.', values['run-dir']) : DEFAULT_RUN_DIR;
  const store = values.store;
  if (store !== undefined && store !== 'nats' && store !== 'local') {
    throw new UsageError(`--store: expected nats or local, got ${JSON.stringify(store)}`);
  }
  switch (command) {
    case 'up': {
      const basePort = values['base-port'] ? parsePort(values['base-port'], '--base-port') : DEFAULT_BASE_PORT;
      const state = await up({ runDir, basePort, ...(store ? { store: store as StoreKind } : {}) });
      process.stdout.write(
        `cluster up: 3 nats-server nodes, 3 servers (store: ${state.store}), HAProxy; run directory ${runDir}\n` +
          `clients connect to ${state.address}, e.g.\n` +
          `  pnpm --filter client start send-dict --port ${state.ports.balancer} --data '{"hello":"cluster"}'\n`,
      );
      return 0;
    }
    case 'down': {
      const stopped = await down(runDir);
      process.stdout.write(
        stopped.length === 0 ? `no cluster in ${runDir}\n` : `stopped ${stopped.length} processes\n`,
      );
      return 0;
    }
    case 'status': {
      const s = await status(runDir);
      if (values.json) process.stdout.write(`${JSON.stringify(s ?? null, null, 2)}\n`);
      else process.stdout.write(s === undefined ? `no cluster in ${runDir}\n` : formatStatus(s));
      if (s === undefined) return 1;
      return s.processes.every((p) => p.ready) ? 0 : 1;
    }
    default:
      throw new UsageError(command === undefined ? 'a command is needed' : `unknown command ${command}`);
  }
}

function formatStatus(s: ClusterStatus): string {
  const rows = s.processes.map((p) => {
    const state = !p.alive ? 'dead' : p.ready ? 'ready' : 'not ready';
    const notes = [p.leader ? 'JetStream meta leader' : '', p.balancer ? `HAProxy: ${p.balancer}` : '']
      .filter(Boolean)
      .join(', ');
    return `${p.name.padEnd(9)} pid ${String(p.pid).padEnd(8)} port ${String(p.port).padEnd(6)} ${state.padEnd(10)}${notes}`;
  });
  return `clients connect to ${s.state.address} (store: ${s.state.store}, since ${s.state.startedAt})\n${rows.join('\n')}\n`;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const usage = err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`cluster: ${(err as Error).message ?? String(err)}\n${usage ? USAGE : ''}`);
    process.exitCode = usage ? 2 : 1;
  },
);
