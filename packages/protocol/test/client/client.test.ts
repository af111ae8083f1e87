/**
 * The client library against scripted peers on real sockets: each test's server answers exactly what the
 * scenario needs (silence, late errors, duplicate receipts), which a well-behaved server would not do on cue.
 */
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { connect } from '../../src/client/client';
import { parseClientMessage, type ClientMessage } from '../../src/wire/envelopes';
import { FrameKind } from '../../src/wire/frame';
import { FrameDecoder } from '../../src/wire/frame-decoder';
import { encodeControlFrame } from '../../src/wire/frame-encoder';
import { DEFAULT_LIMITS } from '../../src/limits';

type Event = { kind: 'control'; message: ClientMessage } | { kind: 'data'; payload: Buffer };
type Script = (event: Event, reply: (message: object) => void, socket: net.Socket) => void;

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

const welcome = {
  type: 'welcome',
  version: 1,
  agent: 'scripted/1',
  serverId: 'test',
  limits: { ...DEFAULT_LIMITS },
  formats: ['json', 'xml', 'protobuf'],
  encryption: { accepts: ['none', 'age'], canDecrypt: false },
};

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server on 127.0.0.1:0 that welcomes every hello (unless told not to) and hands the rest to `script`. */
async function scripted(script: Script, options: { welcome?: boolean } = {}): Promise<number> {
  const server = net.createServer((socket) => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
    const reply = (message: object): void => {
      if (!socket.destroyed) socket.write(encodeControlFrame(message));
    };
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind === FrameKind.Data) {
          script({ kind: 'data', payload: Buffer.from(frame.payload) }, reply, socket);
          continue;
        }
        const message = parseClientMessage(frame.payload);
        if (message.type === 'hello') {
          if (options.welcome !== false) reply(welcome);
        } else if (message.type === 'bye') {
          reply({ type: 'bye' });
          socket.end();
        } else {
          script({ kind: 'control', message }, reply, socket);
        }
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

function receiptFor(id: string, kind: 'dict' | 'file', body: Buffer, duplicate = false): object {
  return {
    type: 'receipt',
    id,
    kind,
    path: `items/x/${id}`,
    bytes: body.length,
    sha256: sha(body),
    encrypted: false,
    receivedAt: new Date(0).toISOString(),
    duplicate,
  };
}

/** Answers dictionary puts with a correct receipt once their body is in. */
function dictAnswerer(): Script {
  let current: { id: string; bytes: number; body: Buffer[] } | undefined;
  return (event, reply) => {
    if (event.kind === 'control' && event.message.type === 'put_dict') {
      current = { id: event.message.id, bytes: event.message.bytes, body: [] };
    } else if (event.kind === 'data' && current) {
      current.body.push(event.payload);
      const body = Buffer.concat(current.body);
      if (body.length === current.bytes) reply(receiptFor(current.id, 'dict', body));
    }
  };
}

describe('client library', () => {
  test('nobody listening is ERR_CONNECT', async () => {
    const port = await scripted(() => undefined);
    await new Promise((r) => servers.pop()?.close(r));
    await expect(connect({ port, timeoutMs: 2000 })).rejects.toMatchObject({ code: 'ERR_CONNECT' });
  });

  test('a server that never welcomes is ERR_TIMEOUT, not a hang', async () => {
    const port = await scripted(() => undefined, { welcome: false });
    await expect(connect({ port, timeoutMs: 300 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  test('a server that goes silent fails the put with ERR_TIMEOUT once the retries run out, and every later call too', async () => {
    const port = await scripted(() => undefined);
    const client = await connect({ port, timeoutMs: 300, retry: { retries: 1, baseDelayMs: 10 } });
    const retries: number[] = [];
    client.on('retry', (e) => retries.push(e.attempt));
    await expect(client.sendDict({ a: 1 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(retries).toEqual([1]);
    expect(client.isClosed).toBe(true);
    await expect(client.closed).resolves.toMatchObject({ error: { code: 'ERR_TIMEOUT' } });
    await expect(client.sendDict({ a: 2 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  test('a late error for a put that failed locally does not answer the next put', async () => {
    const answerDicts = dictAnswerer();
    const port = await scripted((event, reply) => {
      if (event.kind === 'control' && event.message.type === 'put_file') {
        reply({ type: 'ready', id: event.message.id, offset: 0 });
      } else if (event.kind === 'data' && event.payload.toString() === 'first chunk') {
        // The refusal of the file put is still in flight when the client gives up on its own.
        setTimeout(
          () => reply({ type: 'error', code: 'ERR_STORAGE', message: 'disk full', id: 'file-a', fatal: false }),
          50,
        );
      } else if (event.kind === 'control' && event.message.type === 'put_dict') {
        // Hold the dictionary's answer until the stale error has gone out first.
        setTimeout(() => answerDicts(event, reply, undefined as never), 100);
      } else if (event.kind === 'data') {
        setTimeout(() => answerDicts(event, reply, undefined as never), 100);
      }
    });
    const client = await connect({ port, timeoutMs: 2000 });
    async function* failingSource(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('first chunk');
      throw Object.assign(new Error('read failed'), { code: 'EIO' });
    }
    await expect(client.sendStream(failingSource(), { id: 'file-a', name: 'a.txt' })).rejects.toMatchObject({
      code: 'EIO',
    });
    const receipt = await client.sendDict({ b: 2 }, { id: 'dict-b' });
    expect(receipt).toMatchObject({ id: 'dict-b', kind: 'dict' });
    const next = await client.sendDict({ c: 3 }, { id: 'dict-c' });
    expect(next).toMatchObject({ id: 'dict-c' });
    await client.close();
  });

  test('a duplicate receipt is checked against the content: same bytes pass, other bytes are ERR_RECEIPT_MISMATCH', async () => {
    const stored = Buffer.from('hello');
    const port = await scripted((event, reply) => {
      if (event.kind === 'control' && event.message.type === 'put_file') {
        reply(receiptFor(event.message.id, 'file', stored, true));
      }
    });
    const client = await connect({ port, timeoutMs: 2000 });
    await expect(
      client.sendStream([Buffer.from('hel'), Buffer.from('lo')], { id: 'same', name: 'a.txt' }),
    ).resolves.toMatchObject({
      duplicate: true,
      sha256: sha(stored),
    });
    await expect(
      client.sendStream([Buffer.from('other content')], { id: 'same', name: 'b.txt' }),
    ).rejects.toMatchObject({ code: 'ERR_RECEIPT_MISMATCH' });
    await client.close();
  });

  test('a source that differs each time: onSent reports what went out in full, and a duplicate matching it is accepted unhashed', async () => {
    let stored: Buffer | undefined;
    let digest: { bytes: number; sha256: string } | undefined;
    const port = await scripted((event, reply, socket) => {
      if (event.kind === 'control' && event.message.type === 'put_file') {
        if (stored) reply(receiptFor(event.message.id, 'file', stored, true));
        else reply({ type: 'ready', id: event.message.id, offset: 0 });
      } else if (event.kind === 'data') {
        stored = Buffer.concat([stored ?? Buffer.alloc(0), event.payload]);
      } else if (event.kind === 'control' && event.message.type === 'file_end') {
        socket.destroy(); // stored, but the receipt is lost
      }
    });
    const first = await connect({ port, timeoutMs: 2000 });
    await expect(
      first.sendStream([Buffer.from('first encryption')], { id: 'enc', name: 'a.age', onSent: (d) => (digest = d) }),
    ).rejects.toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
    });
    expect(digest).toEqual({ bytes: 16, sha256: sha(Buffer.from('first encryption')) });
    const retry = await connect({ port, timeoutMs: 2000 });
    const never = (): Iterable<Uint8Array> => {
      throw new Error('the source must not be read');
    };
    await expect(
      retry.sendStream(never, {
        id: 'enc',
        name: 'a.age',
        earlierAttempts: [digest as { bytes: number; sha256: string }],
      }),
    ).resolves.toMatchObject({
      duplicate: true,
      sha256: sha(Buffer.from('first encryption')),
    });
    // Without it, the new source is hashed and does not match.
    await expect(
      retry.sendStream([Buffer.from('second encryption')], { id: 'enc', name: 'a.age', earlierAttempts: [] }),
    ).rejects.toMatchObject({
      code: 'ERR_RECEIPT_MISMATCH',
    });
    await retry.close();
  });

  test('an early refusal during an upload stops the upload with the server code, and the session goes on', async () => {
    const answerDicts = dictAnswerer();
    let discarding = false;
    const port = await scripted((event, reply) => {
      if (event.kind === 'control' && event.message.type === 'put_file') {
        reply({ type: 'ready', id: event.message.id, offset: 0 });
      } else if (event.kind === 'data' && !discarding && event.payload.length > 0 && event.payload[0] === 0x61) {
        discarding = true;
        reply({ type: 'error', code: 'ERR_FILE_TOO_LARGE', message: 'too large', id: 'big', fatal: false });
      } else if (event.kind === 'control' && event.message.type === 'cancel') {
        discarding = false;
      } else if (!discarding) {
        answerDicts(event, reply, undefined as never);
      }
    });
    const client = await connect({ port, timeoutMs: 2000 });
    async function* slowSource(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 50; i++) {
        yield Buffer.alloc(1024, 0x61);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    await expect(client.sendStream(slowSource(), { id: 'big', name: 'big.txt' })).rejects.toMatchObject({
      code: 'ERR_FILE_TOO_LARGE',
      remote: true,
    });
    await expect(client.sendDict({ after: true }, { id: 'after' })).resolves.toMatchObject({ id: 'after' });
    await client.close();
  });

  test('a fatal error from the server rejects the waiting put with its code', async () => {
    const port = await scripted((event, reply, socket) => {
      if (event.kind === 'data') {
        reply({ type: 'error', code: 'ERR_DICT_TOO_LARGE', message: 'no', fatal: true });
        socket.end();
      }
    });
    const client = await connect({ port, timeoutMs: 2000 });
    await expect(client.sendDict({ a: 1 })).rejects.toMatchObject({ code: 'ERR_DICT_TOO_LARGE', fatal: true });
  });

  test('an invalid put id is refused before anything is sent', async () => {
    const port = await scripted(() => undefined);
    const client = await connect({ port, timeoutMs: 2000 });
    await expect(client.sendDict({ a: 1 }, { id: '../x' })).rejects.toMatchObject({ code: 'ERR_ID_INVALID' });
    await client.close();
  });
});
