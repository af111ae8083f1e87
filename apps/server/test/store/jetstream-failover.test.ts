/**
 * The JetStream store while a node of its cluster dies (`kill -9`): the leader of the receipts stream, then a
 * follower. Puts keep going on 8 workers (dictionaries and 2 MiB files) through the kill and the node's return;
 * every put either is acknowledged and reads back intact, or fails with a coded storage error (none is expected:
 * every call is retried until its deadline). The longest pause between acknowledgements is printed, not asserted
 * (it is the cluster's election time). Long form only (RELIABILITY_LONG=1): each case takes about 20 s.
 */
import { randomBytes } from 'node:crypto';
import { findNatsServer, type NatsCluster, sha256Hex, startNatsCluster } from '@proj/test-utils';
import { InputBudget } from '../../src/input-budget';
import { createLogger } from '../../src/logger';
import { JetStreamStore } from '../../src/store/jetstream/jetstream-store';
import { RECEIPTS_BUCKET } from '../../src/store/jetstream/names';
import { newServerId } from '../../src/store/paths';

const reason =
  findNatsServer() === undefined
    ? 'nats-server is not installed'
    : process.env.RELIABILITY_LONG !== '1'
      ? 'long form only (RELIABILITY_LONG=1)'
      : undefined;
if (reason !== undefined) console.warn(`skipped: JetStream store failover: ${reason}`);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Acked {
  id: string;
  kind: 'dict' | 'file';
  sha256: string;
  at: number;
}

(reason === undefined ? describe : describe.skip)('the JetStream store through a node kill', () => {
  let cluster: NatsCluster;
  let store: JetStreamStore;
  beforeAll(async () => {
    cluster = await startNatsCluster();
    store = await JetStreamStore.open({
      servers: cluster.urls,
      serverId: newServerId(),
      log: createLogger('silent'),
      clean: false,
    });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  }, 60_000);

  async function putsThrough(victim: () => Promise<number>, label: string): Promise<void> {
    const budget = new InputBudget(64 * 1024 * 1024);
    const acked: Acked[] = [];
    const failures: string[] = [];
    let stop = false;
    const t0 = Date.now();
    const worker = async (w: number): Promise<void> => {
      for (let n = 0; !stop; n++) {
        const id = `${label}-${w}-${n}`;
        try {
          if (w % 4 === 0) {
            const data = randomBytes(2 * 1024 * 1024);
            const sink = await store.openFileSink({
              id,
              size: data.length,
              budget,
              signal: new AbortController().signal,
            });
            for (let at = 0; at < data.length; at += 65_536) await sink.write(data.subarray(at, at + 65_536));
            const { item } = await sink.commit({
              name: 'f.bin',
              cleanedName: 'f.bin',
              declared: 'none',
              sender: 'x:1',
            });
            expect(item.sha256).toBe(sha256Hex(data));
            acked.push({ id, kind: 'file', sha256: item.sha256, at: Date.now() - t0 });
          } else {
            const data = Buffer.from(JSON.stringify({ w, n }));
            const { item } = await store.storeDict({ id, format: 'json', data, sender: 'x:1' });
            acked.push({ id, kind: 'dict', sha256: item.sha256, at: Date.now() - t0 });
          }
        } catch (err) {
          failures.push(`${id}: ${(err as { code?: string }).code} ${(err as Error).message}`);
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    await sleep(1500);
    const index = await victim();
    await cluster.stopNode(index, 'SIGKILL');
    const killedAt = Date.now() - t0;
    await sleep(8000);
    await cluster.startNode(index);
    await sleep(2000);
    stop = true;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(acked.filter((a) => a.at > killedAt + 1000).length).toBeGreaterThan(0);
    for (const a of acked) {
      const item = await store.findReceipt(a.id);
      expect(item?.sha256).toBe(a.sha256);
      if (a.kind === 'file') {
        const parts: Buffer[] = [];
        for await (const part of store.openReader(item?.path ?? '', 1 << 20)) parts.push(part as Buffer);
        expect(sha256Hex(Buffer.concat(parts))).toBe(a.sha256);
      }
    }
    const times = acked.map((a) => a.at).sort((x, y) => x - y);
    let pause = 0;
    for (let i = 1; i < times.length; i++) pause = Math.max(pause, (times[i] as number) - (times[i - 1] as number));
    console.log(`JetStream store, ${label} killed: ${acked.length} puts acknowledged, longest pause ${pause} ms`);
  }

  const leaderIndex = async (): Promise<number> => {
    const info = await store.conn.jsm.streams.info(`KV_${RECEIPTS_BUCKET}`);
    return cluster.nodes.findIndex((n) => n.name === info.cluster?.leader);
  };

  test('the receipts stream leader', () => putsThrough(leaderIndex, 'leader'), 120_000);

  test(
    'a follower',
    () =>
      putsThrough(async () => {
        const leader = await leaderIndex();
        return leader === 0 ? 1 : 0;
      }, 'follower'),
    120_000,
  );
});
