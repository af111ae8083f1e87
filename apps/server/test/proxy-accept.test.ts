/**
 * `--proxy-protocol` on a real socket (../src/proxy-accept.ts, ../src/server.ts): the client a PROXY v2 header
 * names is the sender in receipts, logs and admission; a connection without a valid header is closed with a log
 * line naming the code; a LOCAL header (a balancer's health check) gets a session whose lines stay out of the log
 * and off the screen.
 */
import { createHash } from 'node:crypto';
import { listReceived } from '../src/index';
import { encodeControlFrame, encodeFrame, FrameKind } from '@proj/protocol/wire';
import { RawClient, startTestServer, waitFor, type TestServer } from './helpers';
import { encodeProxyHeader } from './proxy-header';

const client = { address: '203.0.113.7', port: 51234 };
const balancerSide = { address: '10.0.0.2', port: 5050 };

function dictFrames(id: string, body: Buffer): Buffer {
  const [h, b] = encodeFrame(FrameKind.Data, body);
  return Buffer.concat([encodeControlFrame({ type: 'put_dict', id, format: 'json', bytes: body.length }), h, b]);
}

describe('with --proxy-protocol', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ proxyProtocol: true, limits: { maxConnectionsPerAddress: 1 } });
  });
  afterEach(async () => {
    await t.stop();
  });

  test('the header, the hello and a put in one write, split byte by byte: the receipt names the client', async () => {
    const c = await RawClient.connect(t.server.port);
    const body = Buffer.from('{"a":1}');
    const bytes = Buffer.concat([
      encodeProxyHeader({ command: 'proxy', source: client, destination: balancerSide }),
      encodeControlFrame({ type: 'hello', version: 1 }),
      dictFrames('proxied-1', body),
    ]);
    for (const b of bytes) c.raw(Buffer.from([b]));
    expect(await c.next()).toMatchObject({ type: 'welcome' });
    const receipt = await c.next();
    expect(receipt).toMatchObject({
      type: 'receipt',
      id: 'proxied-1',
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
    c.destroy();
    const [item] = await listReceived(t.dataDir);
    expect(item?.sender).toBe('203.0.113.7:51234');
    await waitFor(() => t.logs().some((l) => l.msg === 'disconnected'));
    const senders = new Set(t.logs().flatMap((l) => (typeof l.sender === 'string' ? [l.sender] : [])));
    expect([...senders]).toEqual(['203.0.113.7:51234']);
    expect(t.stdout()).toContain('client 203.0.113.7:51234 connected');
  });

  test('an IPv6 client is named as node names one', async () => {
    const c = await RawClient.connect(t.server.port);
    const source = { address: '2001:db8::42', port: 40000 };
    c.raw(encodeProxyHeader({ command: 'proxy', source, destination: { address: '2001:db8::1', port: 5050 } }));
    c.control({ type: 'hello', version: 1 });
    expect(await c.next()).toMatchObject({ type: 'welcome' });
    c.destroy();
    await waitFor(() => t.logs().some((l) => l.msg === 'disconnected'));
    expect(t.logs().find((l) => l.msg === 'welcome')?.sender).toBe('[2001:db8::42]:40000');
  });

  test('admission counts the client the header names, not the balancer', async () => {
    // One connection per address: two clients behind the same balancer both get in; the same client twice does not.
    const from = async (address: string): Promise<RawClient> => {
      const c = await RawClient.connect(t.server.port);
      c.raw(encodeProxyHeader({ command: 'proxy', source: { address, port: 1000 }, destination: balancerSide }));
      c.control({ type: 'hello', version: 1 });
      return c;
    };
    const a = await from('198.51.100.1');
    const b = await from('198.51.100.2');
    expect(await a.next()).toMatchObject({ type: 'welcome' });
    expect(await b.next()).toMatchObject({ type: 'welcome' });
    const again = await from('198.51.100.1');
    expect(await again.next()).toMatchObject({ type: 'error', code: 'ERR_TOO_MANY_CONNECTIONS', fatal: true });
    for (const c of [a, b, again]) c.destroy();
  });

  test.each([
    ['a client that speaks first', () => encodeControlFrame({ type: 'hello', version: 1 }), 'ERR_PROXY_SIGNATURE'],
    ['a version 1 text header', () => Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'ERR_PROXY_SIGNATURE'],
    [
      'an oversized header',
      () => {
        const h = encodeProxyHeader({ command: 'local' });
        h.writeUInt16BE(0xffff, 14);
        return h;
      },
      'ERR_PROXY_TOO_LARGE',
    ],
  ])('%s is closed without an answer, and the log says why', async (_name, bytes, code) => {
    const c = await RawClient.connect(t.server.port);
    c.raw(bytes());
    expect(await c.next()).toBeUndefined();
    await c.closed();
    await waitFor(() => t.logs().some((l) => l.msg === 'no valid PROXY protocol header: closing'));
    const line = t.logs().find((l) => l.msg === 'no valid PROXY protocol header: closing');
    expect(line).toMatchObject({ level: 40, code, sender: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(await listReceived(t.dataDir)).toEqual([]);
  });

  test('a header cut short by the client closing is logged as truncated', async () => {
    const c = await RawClient.connect(t.server.port);
    c.raw(encodeProxyHeader({ command: 'proxy', source: client, destination: balancerSide }).subarray(0, 20));
    c.socket.end();
    await c.closed();
    await waitFor(() => t.logs().some((l) => l.code === 'ERR_PROXY_TRUNCATED'));
  });

  test('a connection closed before its first byte (a port probe) is no warning, and reset ones neither', async () => {
    const quiet = await RawClient.connect(t.server.port);
    quiet.socket.end();
    await quiet.closed();
    const reset = await RawClient.connect(t.server.port);
    reset.socket.resetAndDestroy();
    // A late one that does send a bad byte: its warning shows the earlier two are not merely late.
    const bad = await RawClient.connect(t.server.port);
    bad.raw(Buffer.from('x'));
    await bad.closed();
    await waitFor(() => t.logs().some((l) => l.code === 'ERR_PROXY_SIGNATURE'));
    expect(t.logs().filter((l) => l.level === 40)).toHaveLength(1);
  });

  test('a health check (LOCAL) is served, but stays out of the info log and off the screen', async () => {
    const c = await RawClient.connect(t.server.port);
    c.raw(encodeProxyHeader({ command: 'local' }));
    c.control({ type: 'hello', version: 1, agent: 'haproxy-check' });
    expect(await c.next()).toMatchObject({ type: 'welcome' });
    c.control({ type: 'bye' });
    expect(await c.next()).toMatchObject({ type: 'bye' });
    await c.closed();
    // A proxied client after it: its lines show, so the check's absence is not a log that is merely late.
    const d = await RawClient.connect(t.server.port);
    d.raw(encodeProxyHeader({ command: 'proxy', source: client, destination: balancerSide }));
    d.control({ type: 'hello', version: 1 });
    expect(await d.next()).toMatchObject({ type: 'welcome' });
    d.destroy();
    await waitFor(() => t.logs().some((l) => l.msg === 'disconnected'));
    expect(t.logs().filter((l) => l.healthCheck === true)).toEqual([]);
    expect(t.logs().filter((l) => l.msg === 'welcome')).toHaveLength(1);
    expect(t.stdout()).not.toMatch(/client 127\.0\.0\.1/);
  });
});

test('at debug level, health checks and port probes are logged', async () => {
  const t = await startTestServer({ proxyProtocol: true, logLevel: 'debug' });
  try {
    const probe = await RawClient.connect(t.server.port);
    probe.socket.end();
    await probe.closed();
    await waitFor(() => t.logs().some((l) => l.msg === 'closed before a PROXY protocol header' && l.level === 20));
    const c = await RawClient.connect(t.server.port);
    c.raw(encodeProxyHeader({ command: 'local' }));
    c.control({ type: 'hello', version: 1 });
    expect(await c.next()).toMatchObject({ type: 'welcome' });
    c.destroy();
    await waitFor(() => t.logs().some((l) => l.healthCheck === true && l.msg === 'disconnected'));
  } finally {
    await t.stop();
  }
});

test('without --proxy-protocol, a header is not read: the connection is refused as a bad frame', async () => {
  const t = await startTestServer();
  try {
    const c = await RawClient.connect(t.server.port);
    c.raw(encodeProxyHeader({ command: 'proxy', source: client, destination: balancerSide }));
    const answer = await c.next();
    expect(answer).toMatchObject({ type: 'error', fatal: true });
    c.destroy();
  } finally {
    await t.stop();
  }
});

test('--proxy-protocol with TLS is a usage error', async () => {
  await expect(
    startTestServer({ proxyProtocol: true, tlsCert: '/nonexistent/cert.pem', tlsKey: '/nonexistent/key.pem' }),
  ).rejects.toThrow(/--proxy-protocol does not work with TLS/);
});
