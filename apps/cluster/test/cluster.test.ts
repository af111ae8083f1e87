/**
 * `pnpm cluster` for real (../src/cluster.ts): three nats-server nodes, three servers and HAProxy come up on
 * loopback; a client stores through HAProxy and the server names that client (PROXY protocol v2); a retry of the
 * same put id that HAProxy sends to another server gets the first receipt; health checks leave no line in the
 * servers' logs; `status` sees a killed server, and HAProxy takes it out; `down` leaves no process behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type Receipt } from '@proj/protocol';
import { makeTempDir } from '@proj/test-utils';
import { isAlive, sleep, waitUntil } from '../src/processes';
import { down, signalProcess, status } from '../src/cluster';
import { runPaths } from '../src/layout';
import { missingTools, RawClient, startTestCluster, type TestCluster } from './helpers';

const skip = missingTools();
if (skip) console.warn(`cluster tests skipped: ${skip}`);
const describeCluster = skip ? describe.skip : describe;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describeCluster('a local cluster', () => {
  let cluster: TestCluster;
  let lb: number;
  beforeAll(async () => {
    cluster = await startTestCluster();
    lb = cluster.state.ports.balancer;
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  const serverLogs = async (): Promise<Array<Record<string, unknown>>> => {
    const lines: Array<Record<string, unknown>> = [];
    for (let i = 1; i <= 3; i++) {
      const text = await readFile(runPaths(cluster.runDir).log(`server-${i}`), 'utf8');
      for (const line of text.split('\n')) if (line.startsWith('{')) lines.push(JSON.parse(line));
    }
    return lines;
  };

  test('every part is up, and status says so', async () => {
    // The servers store into the nats-server nodes (the server has --store).
    expect(cluster.state.store).toBe('nats');
    expect(cluster.state.processes.map((p) => p.name)).toEqual([
      'nats-1',
      'nats-2',
      'nats-3',
      'server-1',
      'server-2',
      'server-3',
      'haproxy',
    ]);
    const s = await status(cluster.runDir);
    expect(s?.processes.every((p) => p.alive && p.ready)).toBe(true);
    expect(s?.processes.filter((p) => p.leader)).toHaveLength(1);
    expect(s?.processes.filter((p) => p.role === 'server').map((p) => p.balancer)).toEqual(['UP', 'UP', 'UP']);
  });

  test('a dictionary through HAProxy: the receipt matches, and the server names the real client', async () => {
    const c = await RawClient.connect(lb);
    const clientPort = c.socket.localPort;
    c.control({ type: 'hello', version: 1 });
    expect(await c.next()).toMatchObject({ type: 'welcome' });
    const body = Buffer.from(JSON.stringify({ through: 'haproxy', n: 1 }));
    c.control({ type: 'put_dict', id: 'via-lb-1', format: 'json', bytes: body.length });
    c.data(body);
    expect(await c.next()).toMatchObject({ type: 'receipt', id: 'via-lb-1', bytes: body.length, sha256: sha256(body) });
    c.destroy();
    const stored = (await serverLogs()).find((l) => l.msg === 'dict stored' && l.id === 'via-lb-1');
    // HAProxy's own connection to the server comes from another port: this one is the client's.
    expect(stored?.sender).toBe(`127.0.0.1:${clientPort}`);
  });

  test('a retry of the same put id that reaches another server gets the first receipt', async () => {
    const id = `retry-${randomBytes(4).toString('hex')}`;
    const first = await connect({ port: lb, keepAlive: false });
    const firstServer = first.welcome.serverId;
    const receipt = await first.sendDict({ retry: true }, { id });
    await first.close();
    expect(receipt.duplicate).toBe(false);

    const answers: Array<{ serverId: string; receipt: Receipt }> = [];
    const servers = new Set([firstServer]);
    // leastconn with no other connection open spreads new ones over the servers: three tries reach another.
    for (let i = 0; i < 6 && servers.size < 3; i++) {
      const again = await connect({ port: lb, keepAlive: false });
      servers.add(again.welcome.serverId);
      answers.push({ serverId: again.welcome.serverId, receipt: await again.sendDict({ retry: true }, { id }) });
      await again.close();
    }
    const elsewhere = answers.filter((a) => a.serverId !== firstServer);
    expect(elsewhere.length).toBeGreaterThan(0);
    for (const { receipt: r } of answers) {
      expect(r).toMatchObject({
        id,
        duplicate: true,
        path: receipt.path,
        sha256: receipt.sha256,
        receivedAt: receipt.receivedAt,
      });
    }
  });

  test('a file through HAProxy', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const c = await connect({ port: lb, keepAlive: false });
    const receipt = await c.sendStream([bytes], { name: 'three-mib.bin', size: bytes.length });
    await c.close();
    expect(receipt).toMatchObject({ kind: 'file', bytes: bytes.length, sha256: sha256(bytes), duplicate: false });
  });

  test('health checks (every 500 ms) leave no line in the servers’ logs', async () => {
    const before = (await serverLogs()).length;
    await sleep(2000);
    const lines = await serverLogs();
    expect(lines.slice(before)).toEqual([]);
    expect(lines.filter((l) => l.healthCheck === true || l.agent === 'haproxy-check')).toEqual([]);
  });

  test('a killed server: status sees it dead, HAProxy takes it out, clients still store', async () => {
    await signalProcess(cluster.runDir, 'server-3', 'SIGKILL');
    await waitUntil(
      'HAProxy marks server-3 down',
      async () => (await status(cluster.runDir))?.processes.find((p) => p.name === 'server-3')?.balancer === 'DOWN',
      10_000,
    );
    const s = await status(cluster.runDir);
    expect(s?.processes.find((p) => p.name === 'server-3')).toMatchObject({ alive: false, ready: false });
    for (let i = 0; i < 4; i++) {
      const c = await connect({ port: lb, keepAlive: false });
      expect((await c.sendDict({ after: 'kill', i })).duplicate).toBe(false);
      await c.close();
    }
  });

  test('down stops every process', async () => {
    const pids = cluster.state.processes.map((p) => p.pid);
    await down(cluster.runDir);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(await status(cluster.runDir)).toBeUndefined();
  });
});

describeCluster('a local cluster whose servers require a token', () => {
  let cluster: TestCluster;
  let dir: { path: string; remove(): Promise<void> };
  beforeAll(async () => {
    dir = await makeTempDir('proj-cluster-token-');
    const tokenFile = join(dir.path, 'token.txt');
    await writeFile(tokenFile, 'cluster-secret\n', { mode: 0o600 });
    cluster = await startTestCluster({ serverArgs: ['--token-file', tokenFile] });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
    await dir?.remove();
  }, 60_000);

  test('HAProxy’s check (no token) still sees the servers up, and nothing of it is logged', async () => {
    const s = await status(cluster.runDir);
    expect(s?.processes.filter((p) => p.role === 'server').map((p) => p.balancer)).toEqual(['UP', 'UP', 'UP']);
    const c = await connect({ port: cluster.state.ports.balancer, token: 'cluster-secret', keepAlive: false });
    expect((await c.sendDict({ with: 'token' })).duplicate).toBe(false);
    await c.close();
    await sleep(1500);
    for (let i = 1; i <= 3; i++) {
      const log = await readFile(runPaths(cluster.runDir).log(`server-${i}`), 'utf8');
      expect(log).not.toMatch(/authentication failed|haproxy-check|healthCheck/);
    }
  });
});
