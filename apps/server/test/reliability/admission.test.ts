/**
 * Limits that hold against a patient attacker: a per-address connection limit, connections waiting for their
 * hello that cannot lock out clients completing the handshake promptly, and a minimum transfer rate while a frame
 * or a put's body arrives (slow senders are cut with ERR_TOO_SLOW; the server's own waiting never counts).
 */
import * as net from 'node:net';
import { once } from 'node:events';
import { encodeControlFrame, encodeFrame, FrameKind } from '@proj/protocol/wire';
import { expectError, RawClient, sleep, startTestServer, type TestServer } from '../helpers';

const frame = (payload: Uint8Array): Buffer => Buffer.concat(encodeFrame(FrameKind.Data, payload));

async function silentSocket(port: number, localAddress: string): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  await once(socket, 'connect');
  return socket;
}

describe('admission', () => {
  let t: TestServer;
  afterEach(async () => {
    await t?.stop();
  });

  test('one address gets at most --max-per-address connections; other addresses are still served', async () => {
    t = await startTestServer({ output: 'file', limits: { maxConnectionsPerAddress: 3 } });
    const held = [];
    for (let i = 0; i < 3; i++) held.push(await RawClient.welcomed(t.server.port, {}, '127.0.0.2'));
    const fourth = await RawClient.connect(t.server.port, '127.0.0.2');
    await expectError(fourth, 'ERR_TOO_MANY_CONNECTIONS', true);
    await fourth.closed();
    const other = await RawClient.welcomed(t.server.port, {}, '127.0.0.3');
    // A place freed is a place again.
    held[0]?.destroy();
    await sleep(100);
    const again = await RawClient.welcomed(t.server.port, {}, '127.0.0.2');
    for (const c of [...held, other, again]) c.destroy();
  });

  test('silent sockets cannot lock out a client that says hello at once, also with a token (--max-connections 20)', async () => {
    t = await startTestServer({
      output: 'file',
      token: 'sesame',
      limits: { maxConnections: 20, maxPendingConnections: 20, handshakeTimeoutMs: 30_000 },
    });
    const silent: net.Socket[] = [];
    // Twice the old raw socket cap, from several addresses; none ever says hello.
    for (let i = 0; i < 120; i++) silent.push(await silentSocket(t.server.port, `127.0.0.${10 + (i % 3)}`));
    for (let i = 0; i < 5; i++) {
      const legit = await RawClient.welcomed(t.server.port, { token: 'sesame' });
      legit.control({ type: 'ping', nonce: `p${i}` });
      expect(await legit.next()).toMatchObject({ type: 'pong', nonce: `p${i}` });
      legit.destroy();
    }
    const closed = silent.filter((s) => s.destroyed || s.readableEnded).length;
    expect(closed).toBeGreaterThan(0);
    for (const s of silent) s.destroy();
  });
});

describe('minimum transfer rate', () => {
  let t: TestServer;
  afterEach(async () => {
    await t?.stop();
  });

  test('20 clients dripping a dictionary body hold every slot no longer than the transfer timeout', async () => {
    t = await startTestServer({
      output: 'file',
      limits: { maxConnections: 20, minRateBytesPerSec: 1024, transferTimeoutMs: 800, idleTimeoutMs: 60_000 },
    });
    const drippers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => RawClient.welcomed(t.server.port, {}, `127.0.0.${20 + (i % 4)}`)),
    );
    for (const [i, c] of drippers.entries())
      c.control({ type: 'put_dict', id: `slow-${i}`, format: 'json', bytes: 100 });
    const full = await RawClient.connect(t.server.port);
    full.control({ type: 'hello', version: 1 });
    await expectError(full, 'ERR_TOO_MANY_CONNECTIONS', true);
    const drip = setInterval(() => {
      for (const c of drippers) if (!c.socket.destroyed) c.raw(frame(Buffer.from(' ')));
    }, 300);
    try {
      for (const c of drippers) await expectError(c, 'ERR_TOO_SLOW', true);
    } finally {
      clearInterval(drip);
    }
    const legit = await RawClient.welcomed(t.server.port);
    legit.destroy();
  });

  test('a control frame dripped after the welcome is cut too (bytes are not activity; frames are)', async () => {
    t = await startTestServer({
      output: 'file',
      limits: { minRateBytesPerSec: 1024, transferTimeoutMs: 800, idleTimeoutMs: 60_000 },
    });
    const c = await RawClient.welcomed(t.server.port);
    const ping = encodeControlFrame({ type: 'ping', nonce: 'x'.repeat(40) });
    let off = 0;
    const drip = setInterval(() => {
      if (off < ping.length - 1) c.raw(ping.subarray(off, ++off));
    }, 200);
    try {
      await expectError(c, 'ERR_TOO_SLOW', true);
    } finally {
      clearInterval(drip);
    }
  });

  test('a transfer above the minimum rate is never cut, and a put waiting on the server does not count', async () => {
    // The budget holds one dictionary: the second client's put waits while the first one's body trickles in.
    t = await startTestServer({
      output: 'file',
      limits: {
        minRateBytesPerSec: 1024,
        transferTimeoutMs: 600,
        maxDictBytes: 1024 * 1024,
        maxBufferedBytes: 1024 * 1024,
      },
    });
    const steady = await RawClient.welcomed(t.server.port);
    const waiting = await RawClient.welcomed(t.server.port, {}, '127.0.0.2');
    const body = Buffer.from(`{"pad":"${'y'.repeat(1024 * 1024 - 10)}"}`);
    steady.control({ type: 'put_dict', id: 'steady', format: 'json', bytes: body.length });
    await sleep(50);
    const small = Buffer.from('{"w":1}');
    // All but 6 KiB at once (the budget is then spent: the waiting put waits), then about 4 KiB/s in 512-byte
    // frames for ~1.5 s, well over the 600 ms timeout.
    let sent = body.length - 12 * 512;
    steady.raw(frame(body.subarray(0, sent)));
    await sleep(100);
    waiting.control({ type: 'put_dict', id: 'waiting', format: 'json', bytes: small.length });
    waiting.data(small);
    for (let i = 0; i < 12; i++) {
      await sleep(125);
      steady.raw(frame(body.subarray(sent, sent + 512)));
      sent += 512;
    }
    expect(await steady.next()).toMatchObject({ type: 'receipt', id: 'steady' });
    expect(await waiting.next()).toMatchObject({ type: 'receipt', id: 'waiting' });
    steady.destroy();
    waiting.destroy();
  });

  test('slow senders announcing large dictionaries hold only what they sent, not the input budget', async () => {
    // 16 clients announce 1 MiB each (16 MiB) against a 2 MiB budget, and send a few bytes; they are never cut here.
    t = await startTestServer({
      output: 'file',
      limits: { maxBufferedBytes: 2 * 1024 * 1024, transferTimeoutMs: 60_000, minRateBytesPerSec: 1 },
    });
    const hogs = await Promise.all(
      Array.from({ length: 16 }, (_, i) => RawClient.welcomed(t.server.port, {}, `127.0.0.${30 + (i % 4)}`)),
    );
    for (const [i, c] of hogs.entries()) {
      c.control({ type: 'put_dict', id: `hog-${i}`, format: 'json', bytes: 1024 * 1024 });
      c.raw(frame(Buffer.from('{"a":')));
    }
    await sleep(200);
    const legit = await RawClient.welcomed(t.server.port);
    const body = Buffer.from('{"legit":true}');
    legit.control({ type: 'put_dict', id: 'legit', format: 'json', bytes: body.length });
    legit.data(body);
    expect(await legit.next(5000)).toMatchObject({ type: 'receipt', id: 'legit' });
    for (const c of [...hogs, legit]) c.destroy();
  });
});
