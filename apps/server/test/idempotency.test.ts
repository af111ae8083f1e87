/**
 * Idempotency (docs/PROTOCOL.md §4): the first answer is the answer. Once an id has a receipt, a put under it gets
 * that receipt again (`duplicate: true`), whatever the new put holds: a file put before any byte moves, a dictionary
 * whose body does not decode before it is refused, and nothing of the new put is kept.
 */
import { join } from 'node:path';
import type { ServerMessage } from '@proj/protocol/wire';
import { listFiles } from '@proj/test-utils';
import { expectError, RawClient, startTestServer, type TestServer } from './helpers';

describe('a retried id gets the first receipt (docs/PROTOCOL.md §4, Idempotency)', () => {
  let t: TestServer;
  let first: ServerMessage | undefined;
  beforeAll(async () => {
    t = await startTestServer({ output: 'file', limits: { maxFileBytes: 1000, maxDictBytes: 4096 } });
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_dict', id: 'once', format: 'json', bytes: 7 });
    c.data(Buffer.from('{"a":1}'));
    first = await c.next();
    expect(first).toMatchObject({ type: 'receipt', id: 'once', kind: 'dict', format: 'json', duplicate: false });
    c.destroy();
  });
  afterAll(async () => {
    await t.stop();
  });

  const again = (): ServerMessage => ({ ...(first as ServerMessage), duplicate: true }) as ServerMessage;

  it('a dictionary body that does not decode, in another format, gets the first receipt', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_dict', id: 'once', format: 'xml', bytes: 9 });
    c.data(Buffer.from('<not xml!'));
    expect(await c.next()).toEqual(again());
    c.destroy();
  });

  it('a file put under a dictionary id, with a name, size and offset it would refuse, gets the first receipt', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'once', name: '..', size: 1_000_000, offset: 7, encryption: 'age' });
    expect(await c.next()).toEqual(again());
    // No ready: the client sends nothing more for this put, and the session goes on.
    c.control({ type: 'ping', nonce: 'after' });
    expect(await c.next()).toEqual({ type: 'pong', nonce: 'after' });
    c.destroy();
    expect((await listFiles(join(t.dataDir, 'items'))).length).toBe(1);
  });

  it('what the server must check before it can read the put comes first: a dictionary over maxDictBytes', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_dict', id: 'once', format: 'json', bytes: 4097 });
    await expectError(c, 'ERR_DICT_TOO_LARGE', true);
    c.destroy();
  });
});
