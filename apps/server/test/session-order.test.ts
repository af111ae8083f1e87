/** The order rules of a session (docs/PROTOCOL.md §4): what comes before hello, and a cancel for another put id. */
import { sha256Hex } from '@proj/test-utils';
import { RawClient, startTestServer, type TestServer } from './helpers';

describe('session order rules (docs/PROTOCOL.md §4)', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ output: 'file' });
  });
  afterEach(async () => {
    await t.stop();
  });

  it('a ping before hello is an unexpected message, fatal, not a pong', async () => {
    const c = await RawClient.connect(t.server.port);
    c.control({ type: 'ping', nonce: 'early' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_UNEXPECTED_MESSAGE', fatal: true });
    c.destroy();
  });

  it('a ping after the welcome is still answered', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'ping', nonce: 'late' });
    expect(await c.next()).toEqual({ type: 'pong', nonce: 'late' });
    c.destroy();
  });

  it('a cancel for another id during a file put is ignored, and the put completes', async () => {
    const c = await RawClient.welcomed(t.server.port);
    const body = Buffer.from('hello, file\n');
    c.control({ type: 'put_file', id: 'f-1', name: 'a.txt', size: body.length });
    expect(await c.next()).toEqual({ type: 'ready', id: 'f-1', offset: 0 });
    c.control({ type: 'cancel', id: 'someone-else' });
    c.data(body);
    c.control({ type: 'file_end', id: 'f-1', bytes: body.length, sha256: sha256Hex(body) });
    expect(await c.next()).toMatchObject({ type: 'receipt', id: 'f-1', bytes: body.length, duplicate: false });
    c.destroy();
  });

  it('a cancel for another id while a failed put is discarded is ignored', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'f-2', name: 'b.txt', size: 4 });
    expect(await c.next()).toEqual({ type: 'ready', id: 'f-2', offset: 0 });
    c.data(Buffer.from('too many bytes'));
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_SIZE_MISMATCH', id: 'f-2', fatal: false });
    c.control({ type: 'cancel', id: 'someone-else' });
    c.control({ type: 'file_end', id: 'f-2', bytes: 14, sha256: sha256Hex(Buffer.from('too many bytes')) });
    c.control({ type: 'ping', nonce: 'alive' });
    expect(await c.next()).toEqual({ type: 'pong', nonce: 'alive' });
    c.destroy();
  });
});
