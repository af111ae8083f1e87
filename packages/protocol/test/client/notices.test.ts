/**
 * The client library and notices (docs/PROTOCOL.md §4, "Notices"), against scripted servers on real sockets: a
 * PENDING_APPROVAL notice reaches `onNotice` and extends the wait for that put's answer; without it the same delay
 * is ERR_TIMEOUT; a notice on a connection that did not negotiate `pending-notice` is ERR_UNEXPECTED_MESSAGE.
 */
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { codeOfRejection } from '@proj/test-utils';
import { connect } from '../../src/client/client';
import { DEFAULT_LIMITS } from '../../src/limits';
import type { Notice } from '../../src/wire/envelopes';
import { FrameKind } from '../../src/wire/frame';
import { FrameDecoder } from '../../src/wire/frame-decoder';
import { encodeControlFrame } from '../../src/wire/frame-encoder';
import { NOTICE_PENDING_APPROVAL, PENDING_NOTICE_CAPABILITY } from '../../src/wire/notices';

const BODY = Buffer.from('{"a":1}');
const SHA = createHash('sha256').update(BODY).digest('hex');

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/**
 * A server that welcomes (listing `capabilities` when the hello lists some), and answers a put_dict by sending
 * `notice` (if any) at once and its receipt `delayMs` later.
 */
async function scripted(capabilities: string[], notice: object | undefined, delayMs: number): Promise<number> {
  const server = net.createServer((socket) => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind !== FrameKind.Control) continue;
        const msg = JSON.parse(Buffer.from(frame.payload).toString()) as {
          type: string;
          id?: string;
          capabilities?: string[];
        };
        if (msg.type === 'hello') {
          socket.write(
            encodeControlFrame({
              type: 'welcome',
              version: 1,
              agent: 'scripted/1',
              serverId: 'test',
              limits: { ...DEFAULT_LIMITS },
              formats: ['json'],
              encryption: { accepts: ['none'], canDecrypt: false },
              ...((msg.capabilities ?? []).length > 0 ? { capabilities } : {}),
            }),
          );
        } else if (msg.type === 'put_dict') {
          if (notice) socket.write(encodeControlFrame({ ...notice, id: msg.id }));
          const receipt = {
            type: 'receipt',
            id: msg.id,
            kind: 'dict',
            path: 'items/2026-12-03/000000-x-d-dict.json',
            bytes: BODY.length,
            sha256: SHA,
            format: 'json',
            encrypted: false,
            receivedAt: '2026-12-03T00:00:00.000Z',
            duplicate: false,
          };
          setTimeout(() => socket.writable && socket.write(encodeControlFrame(receipt)), delayMs);
        } else if (msg.type === 'bye') {
          socket.end(encodeControlFrame({ type: 'bye' }));
        }
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

const pending = { type: 'notice', code: NOTICE_PENDING_APPROVAL, timeoutMs: 1000 };

test('a PENDING_APPROVAL notice goes to onNotice and the answer may come that much later', async () => {
  const port = await scripted([PENDING_NOTICE_CAPABILITY], pending, 700);
  const seen: Notice[] = [];
  const client = await connect({
    port,
    timeoutMs: 300,
    keepAlive: false,
    retry: false,
    resume: false,
    capabilities: [PENDING_NOTICE_CAPABILITY],
    onNotice: (n) => seen.push(n),
  });
  expect(client.has(PENDING_NOTICE_CAPABILITY)).toBe(true);
  await expect(client.sendDictBytes(BODY, { format: 'json', id: 'd-1' })).resolves.toMatchObject({
    id: 'd-1',
    duplicate: false,
  });
  expect(seen).toEqual([{ type: 'notice', id: 'd-1', code: NOTICE_PENDING_APPROVAL, timeoutMs: 1000 }]);
  await client.close();
});

test('without the notice, the same delay is ERR_TIMEOUT', async () => {
  const port = await scripted([PENDING_NOTICE_CAPABILITY], undefined, 700);
  const client = await connect({
    port,
    timeoutMs: 300,
    keepAlive: false,
    retry: false,
    resume: false,
    capabilities: [PENDING_NOTICE_CAPABILITY],
  });
  expect(await codeOfRejection(client.sendDictBytes(BODY, { format: 'json', id: 'd-2' }))).toBe('ERR_TIMEOUT');
  client.destroy();
});

test('a notice on a connection that did not negotiate pending-notice is ERR_UNEXPECTED_MESSAGE', async () => {
  const port = await scripted([], pending, 10);
  const client = await connect({
    port,
    timeoutMs: 2000,
    keepAlive: false,
    retry: false,
    resume: false,
    capabilities: ['x-other'],
  });
  expect(client.capabilities).toEqual([]);
  expect(await codeOfRejection(client.sendDictBytes(BODY, { format: 'json', id: 'd-3' }))).toBe(
    'ERR_UNEXPECTED_MESSAGE',
  );
  client.destroy();
});
