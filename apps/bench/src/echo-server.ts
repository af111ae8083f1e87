#!/usr/bin/env node
/**
 * The language's own limit: a minimal length-prefixed echo server on bare `node:net`, run as its own process like
 * our server. Frames use our 5-byte header (u32 length, 1 kind byte) so the bytes per message match ours; every
 * complete frame is written straight back. No validation, no files, no JSON: what is left is the cost of Node's
 * sockets and event loop.
 *
 *   node dist/echo-server.js        prints `listening on 127.0.0.1:<port>` and serves until SIGTERM
 */
import * as net from 'node:net';

const HEADER = 5;

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    let offset = 0;
    while (buffered.length - offset >= HEADER) {
      const end = offset + HEADER + buffered.readUInt32BE(offset);
      if (end > buffered.length) break;
      offset = end;
    }
    if (offset > 0) {
      // One write for every whole frame in this read, as a server that batches its replies would.
      socket.write(buffered.subarray(0, offset));
      buffered = buffered.subarray(offset);
    }
  });
  socket.on('error', () => socket.destroy());
});
server.maxConnections = 100_000;
server.listen({ host: '127.0.0.1', port: 0, backlog: 2048 }, () => {
  const { port } = server.address() as net.AddressInfo;
  process.stdout.write(`listening on 127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
