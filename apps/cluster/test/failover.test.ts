/**
 * Failover (docs/RELIABILITY.md "Failover of the cluster", docs/SCALE-OUT.md "Failover figures"): 32 clients send
 * dictionaries and files through HAProxy to three servers storing into a 3-node JetStream cluster, while one part
 * is killed with `kill -9`: the leader of the receipts stream, a follower, or one of our servers in the middle of
 * file puts. Then every acknowledged item is read back from the store (size, SHA-256, its receipt), no id is
 * stored twice, and the uploads went on: the longest pause in acknowledgements is measured and reported.
 *
 * The long form of the reliability suite only (`pnpm --filter @proj/cluster test:failover`, or
 * `pnpm test:reliability`): 32 clients for half a minute each time is more than `pnpm test` should cost a
 * 2-core machine. Figures go to $RELIABILITY_FIGURES (JSON lines), as the server's reliability suite does.
 */
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../server/src/logger';
import { JetStreamStore } from '../../server/src/store/jetstream/jetstream-store';
import { restartProcess, signalProcess, status } from '../src/cluster';
import { haproxyBackends, natsStreamLeaders } from '../src/probes';
import { runPaths } from '../src/layout';
import { sleep, waitUntil } from '../src/processes';
import { type LoadResult, longestPause, runLoad } from './failover-load';
import { missingTools, startTestCluster, type TestCluster } from './helpers';

const LONG = process.env.RELIABILITY_LONG === '1';
const skip = missingTools() ?? (LONG ? undefined : 'the long form only (RELIABILITY_LONG=1, pnpm test:reliability)');
if (skip) console.warn(`failover tests skipped: ${skip}`);
const describeFailover = skip ? describe.skip : describe;

const FIGURES_FILE = process.env.RELIABILITY_FIGURES ?? join(tmpdir(), 'proj-reliability-figures.jsonl');
const CLIENTS = 32;
/** Load before the kill, and after it. */
const BEFORE_MS = 5_000;
const AFTER_MS = 20_000;
/** The aim of the issue: no pause in acknowledgements longer than this. Measured, reported, asserted where it can hold. */
const PAUSE_AIM_MS = 3_000;
/**
 * When a stream's leader dies without a word, nothing of that stream can be acknowledged until a follower stops
 * waiting for its heartbeats and wins an election: nats-server waits 4-9 s (minElectionTimeoutDefault and
 * maxElectionTimeoutDefault in server/raft.go, fixed, not configurable), then campaigns for up to 0.8 s; the
 * store's request to the dead leader times out after its 2 s attempt. The aim of 3 s cannot hold for this kill:
 * the bound is what the election allows, 9 + 0.8 + 2 s, rounded up.
 */
const LEADER_PAUSE_BOUND_MS = 12_000;
/** The receipts stream: every acknowledgement goes through its leader. */
const RECEIPTS_STREAM = 'KV_proj_receipts';

interface Figures {
  scenario: string;
  killed: string;
  acked: number;
  dicts: number;
  files: number;
  fileMiB: number;
  duplicates: number;
  failures: Record<string, number>;
  fileFailures: number;
  pauseMs: number;
  pauseAfterKillMs: number;
  pauseBeforeKillMs: number;
}

async function scenario(
  cluster: TestCluster,
  name: string,
  pick: () => Promise<string>,
): Promise<{ load: LoadResult; figures: Figures }> {
  const started = Date.now();
  let stopping = false;
  const loading = runLoad(
    {
      port: cluster.state.ports.balancer,
      clients: CLIENTS,
      prefix: `${name}-${started}`,
      fileEvery: 4,
      fileBytes: [64 * 1024, 2 * 1024 * 1024],
      timeoutMs: 15_000,
    },
    () => stopping,
    started + BEFORE_MS + AFTER_MS + 90_000,
  );
  await sleep(BEFORE_MS);
  const killed = await pick();
  const killedAt = Date.now();
  await signalProcess(cluster.runDir, killed, 'SIGKILL');
  await sleep(AFTER_MS);
  stopping = true;
  const load = await loading;
  const end = Math.max(...load.acked.map((a) => a.at));
  const pauseAfter = longestPause(load.acked, killedAt, end);
  const figures: Figures = {
    scenario: name,
    killed,
    acked: load.acked.length,
    dicts: load.acked.filter((a) => a.item.kind === 'dict').length,
    files: load.acked.filter((a) => a.item.kind === 'file').length,
    fileMiB:
      Math.round(
        (load.acked.filter((a) => a.item.kind === 'file').reduce((n, a) => n + a.item.bytes.length, 0) / 2 ** 20) * 10,
      ) / 10,
    duplicates: load.acked.filter((a) => a.receipt.duplicate).length,
    failures: load.failures,
    fileFailures: load.fileFailures,
    pauseMs: longestPause(load.acked, started + 1000, end).ms,
    pauseAfterKillMs: pauseAfter.ms,
    pauseBeforeKillMs: longestPause(load.acked, started + 1000, killedAt).ms,
  };
  console.log(`failover ${name}: ${JSON.stringify(figures)}`);
  appendFileSync(
    FIGURES_FILE,
    `${JSON.stringify({ test: `failover ${name}`, long: LONG, at: new Date().toISOString(), ...figures })}\n`,
  );
  return { load, figures };
}

/** Every acknowledged item is in the store as acknowledged, and each id once. */
async function audit(cluster: TestCluster, load: LoadResult, prefix: string): Promise<void> {
  const nats = cluster.state.ports.nats.map((p) => `127.0.0.1:${p}`);
  const store = await JetStreamStore.open({
    servers: nats,
    serverId: 'audit',
    log: createLogger('silent'),
    clean: false,
  });
  try {
    const { items, damaged } = await store.list();
    expect(damaged).toEqual([]);
    const ours = items.filter((i) => i.id.startsWith(prefix));
    const acked = new Map(load.acked.map((a) => [a.item.id, a]));
    // None stored twice, none stored unacknowledged: clients retry an item until it is acknowledged.
    expect(ours.map((i) => i.id).sort()).toEqual([...acked.keys()].sort());
    expect(new Set(ours.map((i) => i.path)).size).toBe(ours.length);
    for (const item of ours) {
      const { item: sent, receipt } = acked.get(item.id) as NonNullable<ReturnType<typeof acked.get>>;
      expect({ id: item.id, path: item.path, bytes: item.bytes, sha256: item.sha256, kind: item.kind }).toEqual({
        id: sent.id,
        path: receipt.path,
        bytes: sent.bytes.length,
        sha256: sent.sha256,
        kind: sent.kind,
      });
      expect(item.receivedAt).toBe(receipt.receivedAt);
      const chunks: Buffer[] = [];
      for await (const chunk of store.openReader(item.path, 1 << 20)) chunks.push(chunk as Buffer);
      const back = Buffer.concat(chunks);
      if (!back.equals(sent.bytes)) throw new Error(`${item.id}: the bytes read back differ from those sent`);
    }
  } finally {
    await store.close();
  }
}

async function streamLeader(cluster: TestCluster): Promise<string> {
  for (const port of cluster.state.ports.natsMonitor) {
    const leader = (await natsStreamLeaders(port))[RECEIPTS_STREAM];
    if (leader) return leader;
  }
  throw new Error(`no leader for ${RECEIPTS_STREAM}`);
}

describeFailover('failover under 32 clients', () => {
  let cluster: TestCluster;
  beforeEach(async () => {
    cluster = await startTestCluster();
  }, 90_000);
  afterEach(async () => {
    await cluster?.stop();
  }, 60_000);

  test('kill -9 the leader of the receipts stream', async () => {
    const { load, figures } = await scenario(cluster, 'leader', async () => {
      const leader = await streamLeader(cluster); // `n2` → `nats-2`
      return `nats-${leader.slice(1)}`;
    });
    await audit(cluster, load, 'leader-');
    expect(figures.acked).toBeGreaterThan(CLIENTS);
    expect(figures.pauseAfterKillMs).toBeLessThan(LEADER_PAUSE_BOUND_MS);
  }, 240_000);

  test('kill -9 a follower', async () => {
    const { load, figures } = await scenario(cluster, 'follower', async () => {
      const leader = await streamLeader(cluster);
      const follower = ['n1', 'n2', 'n3'].find((n) => n !== leader) as string;
      return `nats-${follower.slice(1)}`;
    });
    await audit(cluster, load, 'follower-');
    expect(figures.pauseAfterKillMs).toBeLessThan(PAUSE_AIM_MS);
  }, 240_000);

  test('kill -9 one of our servers in the middle of file puts, then start it again', async () => {
    const { load, figures } = await scenario(cluster, 'server', async () => {
      // The server with the most connections open: with 32 clients and one item in four a file, files are in flight.
      const backends = (await haproxyBackends(runPaths(cluster.runDir).stats)) ?? [];
      const busiest = backends.sort((a, b) => b.current - a.current)[0]?.name ?? 's1';
      return `server-${busiest.slice(1)}`;
    });
    expect(figures.fileFailures).toBeGreaterThan(0);
    await audit(cluster, load, 'server-');
    expect(figures.pauseAfterKillMs).toBeLessThan(PAUSE_AIM_MS);
    await restartProcess(cluster.runDir, figures.killed);
    await waitUntil(
      'the restarted server back in HAProxy',
      async () => (await status(cluster.runDir))?.processes.every((p) => p.alive && p.ready) === true,
      20_000,
    );
  }, 240_000);
});
