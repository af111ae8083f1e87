/**
 * Version and capability negotiation through real sockets (docs/PROTOCOL.md §4, "Handshake" and "Capabilities"):
 * a version-1 client of before negotiation gets exactly the bytes of the golden session vectors; hello variants
 * written as raw frames; the client library against the server.
 */
import * as net from 'node:net';
import { connect } from '@proj/protocol';
import { encodeControlFrame, FrameDecoder, parseServerMessage } from '@proj/protocol/wire';
import { specWireVector } from '@proj/test-utils';
import { expectError, RawClient, startTestServer, type TestServer } from './helpers';

const readHex = (path: string): Buffer => specWireVector(path).bytes;
type Message = Record<string, unknown>;
const vectorMessages = (path: string): Message[] => specWireVector(path).messages;
const frameMessage = (name: string): Message => specWireVector(`frames/${name}.json`).messages[0] as Message;

/** Splits a byte stream into its whole frames (header and payload together). */
function frames(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const end = at + 5 + bytes.readUInt32BE(at);
    out.push(bytes.subarray(at, end));
    at = end;
  }
  return out;
}

/** A socket that keeps every byte the server sends, and counts its whole frames. */
class ByteClient {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  #decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
  #frames = 0;
  #closed: Promise<void>;
  #waiting: (() => void) | undefined;

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.#frames += this.#decoder.push(chunk).length;
      this.#waiting?.();
    });
    this.#closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
  }

  /** Resolves once the server has sent `n` whole frames in all. */
  async framesIn(n: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (this.#frames < n) {
      if (Date.now() > deadline) throw new Error(`${this.#frames} frames from the server, expected ${n}`);
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  closed(): Promise<void> {
    return this.#closed;
  }
}

/**
 * The bytes the server must send for the messages of a vector: the vector's messages with what differs per server
 * and per run (its id, its age recipient, the stored paths and times) taken from what it sent, after checking
 * their form. Everything else, field order included, is the vector's.
 */
function expectedBytes(vector: Message[], sent: Buffer, t: TestServer): string {
  const actual = frames(sent).map((f) => parseServerMessage(f.subarray(5)) as Message);
  expect(actual.map((m) => m.type)).toEqual(vector.map((m) => m.type));
  const serverId = t.server.serverId;
  return Buffer.concat(
    vector.map((m, i) => {
      const got = actual[i] as Message;
      const copy: Message = JSON.parse(JSON.stringify(m));
      if (m.type === 'welcome') {
        expect(got.serverId).toBe(serverId);
        copy.serverId = serverId;
        (copy.encryption as Message).recipient = t.server.recipient;
      }
      if (m.type === 'receipt') {
        const name = m.kind === 'dict' ? 'dict\\.json' : 'notes\\.txt';
        expect(got.path).toMatch(new RegExp(`^items/\\d{4}-\\d{2}-\\d{2}/\\d{6}-${serverId}-${m.id}-${name}$`));
        expect(got.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        copy.path = got.path;
        copy.receivedAt = got.receivedAt;
      }
      return encodeControlFrame(copy);
    }),
  ).toString('hex');
}

describe('negotiation', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ output: 'file' });
  });
  afterAll(async () => {
    await t.stop();
  });

  describe('a version-1 client from before negotiation gets exactly the golden session vectors', () => {
    // Each run stores the vector's put ids: a server of its own, so that none is a duplicate.
    let fresh: TestServer;
    beforeEach(async () => {
      fresh = await startTestServer({ output: 'file' });
    });
    afterEach(async () => {
      await fresh.stop();
    });
    const clientBytes = readHex('sessions/client-to-server.json');
    const serverVector = vectorMessages('sessions/server-to-client.json');

    test('sent turn by turn, as a client waits for each answer', async () => {
      const [hello, putDict, dictData, putFile, ...rest] = frames(clientBytes);
      const fileFrames = rest.slice(0, -1);
      const bye = rest.at(-1) as Buffer;
      // Each turn: the client's frames, then the number of server frames it waits for in all.
      const turns: Array<[Buffer[], number]> = [
        [[hello as Buffer], 1],
        [[putDict as Buffer, dictData as Buffer], 2],
        [[putFile as Buffer], 3],
        [fileFrames, 4],
        [[bye], 5],
      ];
      const c = new ByteClient(fresh.server.port);
      for (const [write, answers] of turns) {
        c.socket.write(Buffer.concat(write));
        await c.framesIn(answers);
      }
      await c.closed();
      expect(c.received.toString('hex')).toBe(expectedBytes(serverVector, c.received, fresh));
    });

    test('sent in one write', async () => {
      const c = new ByteClient(fresh.server.port);
      c.socket.write(clientBytes);
      await c.closed();
      expect(c.received.toString('hex')).toBe(expectedBytes(serverVector, c.received, fresh));
    });

    test('the welcome of today has no capabilities field, and neither does the server answer one', async () => {
      expect(serverVector[0]).not.toHaveProperty('capabilities');
      const c = await RawClient.connect(t.server.port);
      c.control({ type: 'hello', version: 1 }); // capabilities left out: the default, []
      const welcome = await c.next();
      expect(welcome?.type).toBe('welcome');
      expect(welcome).not.toHaveProperty('capabilities');
      c.destroy();
    });
  });

  describe('hello variants, as raw frames', () => {
    test('frames/hello-capabilities is answered by exactly frames/welcome-capabilities, listing our capabilities last', async () => {
      const c = new ByteClient(t.server.port);
      c.socket.write(readHex('frames/hello-capabilities.json'));
      await c.framesIn(1);
      // The vector is a server that supports none; ours supports `resume` (docs/PROTOCOL.md §4, "Resuming").
      const ours = { ...frameMessage('welcome-capabilities'), capabilities: ['resume'] };
      expect(c.received.toString('hex')).toBe(expectedBytes([ours], c.received, t));
      c.socket.destroy();
    });

    test.each([
      ['unknown names', ['x-a', 'x-b/2', 'resume/1']],
      ['strings that are not capability names (version 1 allowed any)', ['Not A Name', 'résumé', '']],
      ['64 names of 64 characters', Array.from({ length: 64 }, (_, i) => `x-${String(i).padStart(62, '0')}`)],
    ])('%s are ignored: a welcome listing the server capabilities, and the session goes on', async (_l, names) => {
      const c = await RawClient.connect(t.server.port);
      c.control({ type: 'hello', version: 1, capabilities: names });
      expect(await c.next()).toMatchObject({ type: 'welcome', version: 1, capabilities: ['resume'] });
      c.control({ type: 'ping', nonce: 'n' });
      expect(await c.next()).toEqual({ type: 'pong', nonce: 'n' });
      c.destroy();
    });

    test('frames/hello-version-2 is answered by exactly frames/error-version, and the connection closes', async () => {
      const c = new ByteClient(t.server.port);
      c.socket.write(readHex('frames/hello-version-2.json'));
      await c.closed();
      expect(c.received.toString('hex')).toBe(readHex('frames/error-version.json').toString('hex'));
    });

    test.each([
      ['version 0', { type: 'hello', version: 0 }],
      ['version 2 with capabilities', { type: 'hello', version: 2, capabilities: ['x-a'] }],
      ['a huge version', { type: 'hello', version: 2 ** 53 - 1 }],
      ['a later hello with fields version 1 does not define', { type: 'hello', version: 7, resume: { at: 5 } }],
      ['a later hello whose fields version 1 would refuse', { type: 'hello', version: 2, capabilities: 'all' }],
    ])('%s is ERR_VERSION (fatal) listing the versions the server speaks', async (_label, hello) => {
      const c = await RawClient.connect(t.server.port);
      c.control(hello);
      expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_VERSION', fatal: true, supported: [1] });
      await c.closed();
    });

    test.each([
      ['no version', { type: 'hello' }],
      ['a negative version', { type: 'hello', version: -1 }],
      ['a fractional version', { type: 'hello', version: 1.5 }],
      ['a version as a string', { type: 'hello', version: '2' }],
      ['version 1 with an unknown field', { type: 'hello', version: 1, resume: true }],
      ['version 1 with 65 capabilities', { type: 'hello', version: 1, capabilities: Array(65).fill('x-a') }],
      ['version 1 with a 65-character capability', { type: 'hello', version: 1, capabilities: ['x'.repeat(65)] }],
    ])('%s is ERR_BAD_MESSAGE (fatal), without a list of versions', async (_label, hello) => {
      const c = await RawClient.connect(t.server.port);
      c.control(hello);
      const m = await c.next();
      expect(m).toMatchObject({ type: 'error', code: 'ERR_BAD_MESSAGE', fatal: true });
      expect(m).not.toHaveProperty('supported');
      await c.closed();
    });

    test('a second hello, of any version, is ERR_UNEXPECTED_MESSAGE: versions are agreed once', async () => {
      const c = await RawClient.welcomed(t.server.port);
      c.control({ type: 'hello', version: 2 });
      await expectError(c, 'ERR_UNEXPECTED_MESSAGE', true);
      await c.closed();
    });
  });

  describe('the client library against the server', () => {
    test('without capabilities: nothing negotiated, the welcome has no capabilities field', async () => {
      // `resume: false`: the library asks for `resume` by itself otherwise.
      const client = await connect({ port: t.server.port, resume: false });
      expect(client.capabilities).toEqual([]);
      expect(client.welcome).not.toHaveProperty('capabilities');
      await expect(client.sendDict({ a: 1 })).resolves.toMatchObject({ type: 'receipt' });
      await client.close();
    });

    test('by default the library asks for resume, and this server has it', async () => {
      const client = await connect({ port: t.server.port });
      expect(client.capabilities).toEqual(['resume']);
      expect(client.has('resume')).toBe(true);
      await client.close();
    });

    test('asking for capabilities the server does not support: the welcome lists its own, none is used', async () => {
      const client = await connect({
        port: t.server.port,
        resume: false,
        capabilities: ['x-a', 'x-b/2'],
        agent: 'negotiating',
      });
      expect(client.welcome.capabilities).toEqual(['resume']);
      expect(client.capabilities).toEqual([]);
      expect(client.has('x-a')).toBe(false);
      await expect(client.sendDict({ a: 1 })).resolves.toMatchObject({ type: 'receipt' });
      await expect(client.sendStream([Buffer.from('hello\n')], { name: 'n.txt', size: 6 })).resolves.toMatchObject({
        type: 'receipt',
        kind: 'file',
        bytes: 6,
      });
      await client.close();
      const line = t.logs().find((l) => l.msg === 'welcome' && l.agent === 'negotiating');
      expect(line).toMatchObject({ capabilities: [] });
    });
  });
});

describe('negotiation with a token', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ output: 'file', token: 'tok' });
  });
  afterAll(async () => {
    await t.stop();
  });

  test('the version is checked first: a hello of another version without a token is ERR_VERSION, not ERR_AUTH', async () => {
    const c = await RawClient.connect(t.server.port);
    c.control({ type: 'hello', version: 2 });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_VERSION', fatal: true, supported: [1] });
    await c.closed();
  });
});
