import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connect, type Receipt } from '@proj/protocol';
import { listFiles, sha256File, sha256Hex } from '@proj/test-utils';
import { listReceived } from '../src/index';
import { chunks, startTestServer } from './helpers';

describe('many clients at once', () => {
  it('200 clients, each sending dictionaries and a file: every receipt matches one stored item', async () => {
    // 200 clients from one loopback address: the per-address limit is raised with the connection limit.
    const t = await startTestServer({ output: 'file', limits: { maxConnections: 400, maxConnectionsPerAddress: 400 } });
    try {
      const CLIENTS = 200;
      const sent = new Map<string, string>(); // id -> sha256 of what was sent
      const runClient = async (n: number): Promise<Receipt[]> => {
        const client = await connect({ port: t.server.port });
        try {
          const receipts: Receipt[] = [];
          receipts.push(
            await client.sendDict({ client: n, kind: 'first', list: [1, 2, 3] }, { id: `c${n}-d1`, format: 'json' }),
          );
          receipts.push(await client.sendDict({ client: n, kind: 'second' }, { id: `c${n}-d2`, format: 'protobuf' }));
          const body = randomBytes(8 * 1024 + n);
          sent.set(`c${n}-f1`, sha256Hex(body));
          receipts.push(
            await client.sendStream(chunks(body), { id: `c${n}-f1`, name: `file-${n}.bin`, size: body.length }),
          );
          return receipts;
        } finally {
          await client.close();
        }
      };
      const all = (await Promise.all(Array.from({ length: CLIENTS }, (_, n) => runClient(n)))).flat();

      expect(all.length).toBe(CLIENTS * 3);
      expect(all.every((r) => !r.duplicate)).toBe(true);
      expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
      expect(new Set(all.map((r) => r.path)).size).toBe(all.length);
      for (const r of all) {
        expect(await sha256File(join(t.dataDir, r.path))).toBe(r.sha256);
        if (sent.has(r.id)) expect(r.sha256).toBe(sent.get(r.id));
      }
      const index = await listReceived(t.dataDir);
      expect(index.length).toBe(all.length);
      expect(new Set(index.map((i) => `${i.id} ${i.path} ${i.sha256}`))).toEqual(
        new Set(all.map((r) => `${r.id} ${r.path} ${r.sha256}`)),
      );
      expect((await listFiles(join(t.dataDir, 'items'))).length).toBe(all.length);
      expect(await listFiles(join(t.dataDir, 'tmp'))).toEqual([]);
    } finally {
      await t.stop();
    }
  }, 120_000);
});
