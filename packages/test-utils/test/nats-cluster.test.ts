import { existsSync } from 'node:fs';
import { findNatsServer, startNatsCluster, type NatsCluster } from '../src/index';

const program = findNatsServer();
if (program === undefined) console.warn('skipped: nats-server is not installed (apt-get install nats-server)');
const maybe = program === undefined ? describe.skip : describe;

maybe('startNatsCluster', () => {
  let cluster: NatsCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  test('three nodes on loopback with a meta leader; a killed node comes back; stop removes the directory', async () => {
    cluster = await startNatsCluster();
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.url.split(',')).toEqual(cluster.nodes.map((n) => `nats://127.0.0.1:${n.port}`));
    expect(['n1', 'n2', 'n3']).toContain(await cluster.metaLeader());
    const varz = (await cluster.monitor(0, '/varz')) as { max_payload: number; jetstream?: unknown };
    expect(varz.max_payload).toBe(4 * 1024 * 1024);

    await cluster.stopNode(1);
    expect(cluster.nodes[1]?.process).toBeUndefined();
    expect(await cluster.monitor(1, '/healthz')).toBeUndefined();
    await cluster.startNode(1);
    await cluster.waitReady();
    expect(((await cluster.monitor(1, '/healthz')) as { status: string }).status).toBe('ok');

    const dir = cluster.dir;
    await cluster.stop();
    cluster = undefined;
    expect(existsSync(dir)).toBe(false);
  }, 30_000);
});
