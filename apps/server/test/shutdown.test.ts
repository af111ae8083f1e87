import * as net from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { listFiles, sha256Hex } from '@proj/test-utils';
import { listReceived } from '../src/index';
import { RawClient, startTestServer, waitFor } from './helpers';

describe('graceful shutdown', () => {
  it('lets a put under way finish, refuses new puts, closes idle clients, and stops accepting', async () => {
    const t = await startTestServer({ output: 'file' });
    try {
      const idle = await RawClient.welcomed(t.server.port);
      const busy = await RawClient.welcomed(t.server.port);
      busy.control({ type: 'put_file', id: 'busy-1', name: 'a.bin' });
      expect(await busy.next()).toMatchObject({ type: 'ready' });
      const body = Buffer.alloc(200_000, 1);
      busy.data(body.subarray(0, 100_000));
      await waitFor(async () => (await listFiles(join(t.dataDir, 'tmp'))).length === 1);

      const closing = t.server.close(10_000);
      expect(await idle.next()).toMatchObject({ type: 'error', code: 'ERR_SHUTTING_DOWN', fatal: true });
      const refused = net.connect({ host: '127.0.0.1', port: t.server.port });
      const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
      expect(err.code).toBe('ECONNREFUSED');

      busy.data(body.subarray(100_000));
      busy.control({ type: 'file_end', id: 'busy-1', bytes: body.length, sha256: sha256Hex(body) });
      busy.control({ type: 'put_dict', id: 'late', format: 'json', bytes: 2 });
      busy.data(Buffer.from('{}'));
      expect(await busy.next()).toMatchObject({ type: 'receipt', id: 'busy-1', sha256: sha256Hex(body) });
      expect(await busy.next()).toMatchObject({ type: 'error', code: 'ERR_SHUTTING_DOWN', id: 'late', fatal: false });
      expect(await busy.next()).toMatchObject({ type: 'error', code: 'ERR_SHUTTING_DOWN', fatal: true });
      await closing;
      expect((await listReceived(t.dataDir)).map((i) => i.id)).toEqual(['busy-1']);
      expect(await listFiles(join(t.dataDir, 'tmp'))).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('after the grace period, cuts puts still under way and leaves no partial file', async () => {
    const t = await startTestServer({ output: 'file' });
    try {
      const slow = await RawClient.welcomed(t.server.port);
      slow.control({ type: 'put_file', id: 'slow-1', name: 'a.bin', size: 1000 });
      await slow.next();
      slow.data(Buffer.alloc(10));
      await waitFor(async () => (await listFiles(join(t.dataDir, 'tmp'))).length === 1);
      await t.server.close(100);
      await slow.closed();
      expect(await listFiles(join(t.dataDir, 'tmp'))).toEqual([]);
      expect(await listFiles(join(t.dataDir, 'items'))).toEqual([]);
      expect(t.stdout()).toContain('stopped');
    } finally {
      await t.stop();
    }
  });
});
