// Measures what docs/SERVER.md "Resume" reports: a 1 GiB file sent whole, and resumed after a cut at 50 %, with the
// prefix's hash state kept in memory (same process) or read back from the partial (a restarted server); and the
// read-back alone. Run after `pnpm --filter server build`: node apps/server/scripts/measure-resume.mjs [MiB]
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { encodeControlFrame, encodeFrameHeader, FrameDecoder, FrameKind } from '@proj/protocol/wire';
import { startServer } from '../dist/index.js';
import { readPrefix } from '../dist/store/partial-prefix.js';

const MIB = 1024 * 1024;
const size = Number(process.argv[2] ?? 1024) * MIB;
const dir = mkdtempSync(join(tmpdir(), 'measure-resume-'));
const file = join(dir, 'source.bin');
writeFileSync(file, Buffer.concat(Array.from({ length: size / MIB }, () => randomBytes(MIB))));
const whole = createHash('sha256');
for await (const c of createReadStream(file, { highWaterMark: MIB })) whole.update(c);
const sha = whole.digest('hex');

const start = (dataDir) =>
  startServer({ dataDir, port: 0, stdout: new PassThrough(), logLevel: 'silent', output: 'file' });

async function client(port) {
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  const dec = new FrameDecoder({ maxFrameBytes: MIB });
  const inbox = [];
  let wake;
  socket.on('data', (b) => {
    for (const f of dec.push(b)) inbox.push(JSON.parse(Buffer.from(f.payload).toString()));
    wake?.();
  });
  const next = async () => {
    while (inbox.length === 0) await new Promise((r) => (wake = r));
    return inbox.shift();
  };
  socket.write(encodeControlFrame({ type: 'hello', version: 1, capabilities: ['resume'] }));
  await next();
  return { socket, next };
}

async function send(c, from, to) {
  for await (const chunk of createReadStream(file, { start: from, end: to - 1, highWaterMark: 256 * 1024 })) {
    if (!c.socket.write(Buffer.concat([encodeFrameHeader(FrameKind.Data, chunk.length), chunk])))
      await once(c.socket, 'drain');
  }
}

/** A put of `id` sending [offset the server answers, upTo); file_end when upTo is the end. Returns seconds. */
async function put(port, id, upTo) {
  const t0 = performance.now();
  const c = await client(port);
  c.socket.write(encodeControlFrame({ type: 'put_file', id, name: 'big.bin', size, resume: true }));
  const ready = await c.next();
  await send(c, ready.offset, upTo);
  if (upTo === size) {
    c.socket.write(encodeControlFrame({ type: 'file_end', id, bytes: size, sha256: sha }));
    const r = await c.next();
    if (r.type !== 'receipt' || r.sha256 !== sha) throw new Error(JSON.stringify(r));
  } else {
    await new Promise((r) => c.socket.write(Buffer.alloc(0), r));
  }
  c.socket.destroy();
  return { s: (performance.now() - t0) / 1000, offset: ready.offset };
}

const dataDir = join(dir, 'data');
let server = await start(dataDir);
const row = {};
row.wholeS = (await put(server.port, 'whole', size)).s;
await put(server.port, 'cut', size / 2);
await new Promise((r) => setTimeout(r, 1500)); // the cut put is suspended (synced) meanwhile
const kept = await put(server.port, 'cut', size);
row.resumedInProcessS = kept.s;
row.offset = kept.offset;
await put(server.port, 'cut2', size / 2);
await new Promise((r) => setTimeout(r, 1500));
await server.close();
server = await start(dataDir);
row.resumedAfterRestartS = (await put(server.port, 'cut2', size)).s;
await server.close();
const t0 = performance.now();
await readPrefix(file, size / 2);
row.readBackHalfS = (performance.now() - t0) / 1000;
row.ratioInProcess = row.resumedInProcessS / row.wholeS;
row.ratioAfterRestart = row.resumedAfterRestartS / row.wholeS;
console.log(
  JSON.stringify({ sizeMiB: size / MIB, ...row }, (_k, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v)),
);
rmSync(dir, { recursive: true, force: true });
