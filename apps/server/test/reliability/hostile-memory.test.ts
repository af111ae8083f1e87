/**
 * Memory held for connections is bounded by what they may legally send, not by how they frame it: 1,000 hostile
 * connections (hellos one byte short, dictionaries and files in one-byte frames, control frames left unfinished)
 * against a server with a 256 MiB heap keep its RSS under 256 MiB, and it goes on serving.
 */
import { once } from 'node:events';
import * as net from 'node:net';
import { encodeControlFrame, encodeFrame, encodeFrameHeader, FrameKind } from '@proj/protocol/wire';
import { makeTempDir } from '@proj/test-utils';
import { RawClient } from '../helpers';
import { buildServer, recordFigures, scale, sleep, spawnServer, type ChildServer } from './harness';

const CONTROL_LIMIT = 64 * 1024;
const HOSTILE = scale(1000, 1000);
/** Each group of 50 comes from its own loopback address (the per-address limit is 64 by default). */
const PER_ADDRESS = 50;

function dataFrames(count: number): Buffer {
  const one = Buffer.concat(encodeFrame(FrameKind.Data, Buffer.from('x')));
  return Buffer.concat(Array.from({ length: count }, () => one));
}

async function connectFrom(localAddress: string, port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  socket.on('data', () => undefined); // read what the server says, so that it can close us
  await once(socket, 'connect');
  return socket;
}

const hello = encodeControlFrame({ type: 'hello', version: 1 });

/** The four kinds of hostile connection, by index. */
async function hostile(i: number, port: number, frames: Buffer): Promise<net.Socket> {
  const socket = await connectFrom(`127.0.0.${2 + Math.floor(i / PER_ADDRESS)}`, port);
  switch (i % 4) {
    case 0: // a hello one byte short of the largest control frame
      socket.write(encodeFrameHeader(FrameKind.Control, CONTROL_LIMIT));
      socket.write(Buffer.alloc(CONTROL_LIMIT - 1, 0x20));
      break;
    case 1: // a 1 MiB dictionary in one-byte data frames, never finished
      socket.write(hello);
      socket.write(encodeControlFrame({ type: 'put_dict', id: `d${i}`, format: 'json', bytes: 1024 * 1024 }));
      socket.write(frames);
      break;
    case 2: // a control frame after the welcome, left one byte short, written in small pieces
      socket.write(hello);
      socket.write(encodeFrameHeader(FrameKind.Control, CONTROL_LIMIT));
      for (let off = 0; off < CONTROL_LIMIT - 1; off += 997)
        socket.write(Buffer.alloc(Math.min(997, CONTROL_LIMIT - 1 - off), 0x20));
      break;
    default: // a large file in one-byte data frames
      socket.write(hello);
      socket.write(encodeControlFrame({ type: 'put_file', id: `f${i}`, name: 'big.txt', size: 100 * 1024 * 1024 }));
      socket.write(frames);
  }
  return socket;
}

describe('memory under 1,000 hostile connections', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let server: ChildServer;
  beforeAll(async () => {
    buildServer();
    dir = await makeTempDir('hostile-memory-');
    server = await spawnServer(
      dir.path,
      ['--max-connections', '1000', '--max-pending', '1000', '--max-per-address', '1000', '--log-level', 'warn'],
      {
        env: { NODE_OPTIONS: '--max-old-space-size=256' },
      },
    );
  }, 60_000);
  afterAll(async () => {
    await server.kill('SIGKILL');
    await dir.remove();
  });

  test(`${HOSTILE} hostile connections of every framing: RSS stays under 256 MiB and others are served`, async () => {
    const before = server.memory();
    const frames = dataFrames(20_000);
    const sockets: net.Socket[] = [];
    for (let i = 0; i < HOSTILE; i++) sockets.push(await hostile(i, server.port, frames));
    // Let the server take in everything they sent.
    await sleep(3000);
    const during = server.memory();

    // Someone else is still served: a handshake and a ping, and a dictionary once the hostile ones are gone.
    const legit = await RawClient.welcomed(server.port);
    legit.control({ type: 'ping', nonce: 'n1' });
    expect(await legit.next()).toMatchObject({ type: 'pong', nonce: 'n1' });
    for (const s of sockets) s.destroy();
    const body = Buffer.from('{"ok":true}');
    legit.control({ type: 'put_dict', id: 'legit-1', format: 'json', bytes: body.length });
    legit.data(body);
    expect(await legit.next(20_000)).toMatchObject({ type: 'receipt', id: 'legit-1' });
    legit.destroy();
    await sleep(500);
    const after = server.memory();

    recordFigures('hostile-memory', {
      connections: HOSTILE,
      rssBeforeMiB: before.rssKiB / 1024,
      peakMiB: during.hwmKiB / 1024,
      rssAfterMiB: after.rssKiB / 1024,
    });
    expect(server.child.exitCode).toBeNull();
    expect(after.hwmKiB / 1024).toBeLessThan(256);
  }, 180_000);
});
