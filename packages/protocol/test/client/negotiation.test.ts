/**
 * The client library's side of version and capability negotiation (docs/PROTOCOL.md §4, "Handshake" and
 * "Capabilities"), against scripted servers on real sockets: what the hello lists, the negotiated set, unknown
 * fields once negotiated, and ERR_VERSION with the server's versions.
 */
import * as net from 'node:net';

import { codeOfRejection, specWireVector } from '@proj/test-utils';
import { connect } from '../../src/client/client';
import { RemoteError, RemoteVersionError, VersionError } from '../../src/errors';
import { DEFAULT_LIMITS } from '../../src/limits';
import { FrameKind } from '../../src/wire/frame';
import { FrameDecoder } from '../../src/wire/frame-decoder';
import { encodeControlFrame, encodeFrameHeader } from '../../src/wire/frame-encoder';

const welcome = {
  type: 'welcome',
  version: 1,
  agent: 'scripted/1',
  serverId: 'test',
  limits: { ...DEFAULT_LIMITS },
  formats: ['json', 'xml', 'protobuf'],
  encryption: { accepts: ['none', 'age'], canDecrypt: false },
};

/** What a scripted server answers to each control frame (raw bytes of its payload), or nothing. */
type Answer = (payload: Buffer, index: number) => object | object[] | undefined;

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server on 127.0.0.1:0 that records the client's control frames (payload bytes) and answers by `answer`. */
async function scripted(answer: Answer): Promise<{ port: number; received: Buffer[]; connections: () => number }> {
  const received: Buffer[] = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind !== FrameKind.Control) continue;
        const payload = Buffer.from(frame.payload);
        received.push(payload);
        const reply = answer(payload, received.length - 1);
        for (const m of reply === undefined ? [] : Array.isArray(reply) ? reply : [reply]) {
          socket.write(encodeControlFrame(m));
        }
        if (JSON.parse(payload.toString()).type === 'bye') socket.end();
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, received, connections: () => connections };
}

/** Welcomes with `extra` merged in, pongs every ping with `pongExtra`, byes every bye. */
function welcoming(extra: object = {}, pongExtra: object = {}): Answer {
  return (payload) => {
    const type = JSON.parse(payload.toString()).type as string;
    if (type === 'hello') return { ...welcome, ...extra };
    if (type === 'ping') return { type: 'pong', nonce: 'p', ...pongExtra };
    if (type === 'bye') return { type: 'bye' };
    return undefined;
  };
}

const hexFrame = (name: string): string => specWireVector(`frames/${name}.json`).bytes.toString('hex');

describe('the hello', () => {
  test('without capabilities it is byte for byte the hello of version 1 before negotiation (frames/hello)', async () => {
    const s = await scripted(welcoming());
    const client = await connect({ port: s.port, resume: false, agent: 'example/1.0', keepAlive: false });
    expect(client.capabilities).toEqual([]);
    await client.close();
    const first = s.received[0] as Buffer;
    expect(Buffer.concat([encodeFrameHeader(FrameKind.Control, first.length), first]).toString('hex')).toBe(
      hexFrame('hello'),
    );
  });

  test('lists the capabilities asked for, each once, in the order given', async () => {
    const s = await scripted(welcoming({ capabilities: [] }));
    const client = await connect({
      port: s.port,
      resume: false,
      capabilities: ['x-b', 'x-a', 'x-b'],
      keepAlive: false,
    });
    await client.close();
    expect(JSON.parse((s.received[0] as Buffer).toString())).toEqual({
      type: 'hello',
      version: 1,
      capabilities: ['x-b', 'x-a'],
    });
  });

  test.each([
    ['a name outside the grammar', ['Resume']],
    ['a revision 0', ['resume/0']],
    ['65 names', Array.from({ length: 65 }, (_, i) => `c${i}`)],
  ])('%s is ERR_BAD_MESSAGE before any connection is made', async (_label, capabilities) => {
    const s = await scripted(welcoming());
    expect(await codeOfRejection(connect({ port: s.port, resume: false, capabilities }))).toBe('ERR_BAD_MESSAGE');
    expect(s.connections()).toBe(0);
  });
});

describe('the negotiated set', () => {
  test('the names asked for that the welcome lists; has() tells one', async () => {
    const s = await scripted(welcoming({ capabilities: ['x-c', 'x-b', 'x-d/2'] }));
    const client = await connect({
      port: s.port,
      resume: false,
      capabilities: ['x-a', 'x-b', 'x-d/2', 'x-d/1'],
      keepAlive: false,
    });
    expect(client.capabilities).toEqual(['x-b', 'x-d/2']);
    expect(client.has('x-b')).toBe(true);
    expect(client.has('x-a')).toBe(false); // asked, not supported
    expect(client.has('x-c')).toBe(false); // supported, not asked
    expect(client.has('x-d/1')).toBe(false); // another revision is another capability
    expect(client.welcome.capabilities).toEqual(['x-c', 'x-b', 'x-d/2']);
    await client.close();
  });

  test('empty against a server from before negotiation (a welcome without the field)', async () => {
    const s = await scripted(welcoming());
    const client = await connect({ port: s.port, resume: false, capabilities: ['x-a'], keepAlive: false });
    expect(client.capabilities).toEqual([]);
    expect(client.has('x-a')).toBe(false);
    await client.ping();
    await client.close();
  });

  test('empty when the client asked for none, whatever the server supports', async () => {
    const s = await scripted(welcoming({ capabilities: ['x-a'] }));
    const client = await connect({ port: s.port, resume: false, keepAlive: false });
    expect(client.capabilities).toEqual([]);
    await client.close();
  });
});

describe('unknown fields in server messages', () => {
  test('a client that negotiated ignores them, in the welcome and after', async () => {
    const s = await scripted(
      welcoming(
        { capabilities: ['x-a'], resumable: true, limits: { ...DEFAULT_LIMITS, maxResumeBytes: 9 } },
        { at: 1 },
      ),
    );
    const client = await connect({ port: s.port, resume: false, capabilities: ['x-a'], keepAlive: false });
    expect(client.has('x-a')).toBe(true);
    expect(client.welcome.limits).toEqual(DEFAULT_LIMITS);
    expect(client.welcome).not.toHaveProperty('resumable');
    await client.ping();
    await client.close();
  });

  test('a client that did not negotiate refuses them: ERR_BAD_MESSAGE, as in version 1', async () => {
    const s = await scripted(welcoming({ resumable: true }));
    expect(await codeOfRejection(connect({ port: s.port, resume: false, keepAlive: false }))).toBe('ERR_BAD_MESSAGE');
  });

  test('an unknown message type is refused even after negotiating', async () => {
    const s = await scripted((payload) =>
      JSON.parse(payload.toString()).type === 'hello'
        ? [
            { ...welcome, capabilities: [] },
            { type: 'notice', text: 'hi' },
          ]
        : undefined,
    );
    const client = await connect({ port: s.port, resume: false, capabilities: ['x-a'], keepAlive: false });
    expect(await codeOfRejection(client.ping())).toBe('ERR_BAD_MESSAGE');
    client.destroy();
  });
});

describe('versions', () => {
  const refusal = { type: 'error', code: 'ERR_VERSION', message: 'protocol version 1 is not supported', fatal: true };

  test("ERR_VERSION is a RemoteVersionError whose supported lists the server's versions", async () => {
    const s = await scripted(() => ({ ...refusal, supported: [3, 2] }));
    const err = await connect({ port: s.port, resume: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteVersionError);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ code: 'ERR_VERSION', supported: [3, 2], remote: true, fatal: true });
  });

  test('from a server that sends no list, supported is empty', async () => {
    const s = await scripted(() => refusal);
    const err = await connect({ port: s.port, resume: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteVersionError);
    expect(err).toMatchObject({ code: 'ERR_VERSION', supported: [] });
  });

  test('a welcome of another version than the hello asked for is a local ERR_VERSION', async () => {
    const s = await scripted(welcoming({ version: 2 }));
    const err = await connect({ port: s.port, resume: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VersionError);
    expect(err).toMatchObject({ code: 'ERR_VERSION', got: 2, supported: [1] });
  });
});
