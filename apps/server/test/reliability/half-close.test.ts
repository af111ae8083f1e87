/**
 * A client that half-closes (sends its whole session, then shuts down its writing side, as `nc -N` and socat do)
 * is answered in full: every put that arrived complete gets its receipt, then `bye` if it said bye, then the
 * server closes. The FIN is tried at every byte of a session; a put it cuts is never stored.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import {
  encodeControlFrame,
  encodeFrame,
  FrameDecoder,
  FrameKind,
  parseServerMessage,
  type ServerMessage,
} from '@proj/protocol/wire';
import { readReceipt } from '../../src/store/receipts';
import { startTestServer, type TestServer } from '../helpers';

interface Put {
  id: string;
  /** Offset in the session's bytes where the put's last byte ends. */
  end: number;
  start: number;
}

const frame = (kind: FrameKind, payload: Uint8Array): Buffer => Buffer.concat(encodeFrame(kind, payload));

/** A session: hello, a JSON dict in two data frames, an XML dict, a file in three frames, a dict, then bye. */
function session(tag: string): { bytes: Buffer; puts: Put[]; helloEnd: number; byeStart: number } {
  const parts: Buffer[] = [];
  let length = 0;
  const add = (b: Buffer): void => {
    parts.push(b);
    length += b.length;
  };
  const puts: Put[] = [];
  add(encodeControlFrame({ type: 'hello', version: 1, agent: 'half-close-test' }));
  const helloEnd = length;
  const dict = (id: string, format: 'json' | 'xml', body: Buffer, pieces: number): void => {
    const start = length;
    add(encodeControlFrame({ type: 'put_dict', id, format, bytes: body.length }));
    const step = Math.ceil(body.length / pieces);
    for (let i = 0; i < body.length; i += step) add(frame(FrameKind.Data, body.subarray(i, i + step)));
    puts.push({ id, start, end: length });
  };
  dict(`${tag}-a`, 'json', Buffer.from('{"name":"Ada","langs":["en","fr"]}'), 2);
  dict(
    `${tag}-b`,
    'xml',
    Buffer.from('<?xml version="1.0" encoding="UTF-8"?><dict><number key="n">7</number></dict>'),
    1,
  );
  const file = Buffer.from('line one\nline two\n');
  const start = length;
  add(encodeControlFrame({ type: 'put_file', id: `${tag}-c`, name: 'notes.txt', size: file.length }));
  add(frame(FrameKind.Data, file.subarray(0, 5)));
  add(frame(FrameKind.Data, file.subarray(5)));
  add(frame(FrameKind.Data, Buffer.alloc(0)));
  add(
    encodeControlFrame({
      type: 'file_end',
      id: `${tag}-c`,
      bytes: file.length,
      sha256: createHash('sha256').update(file).digest('hex'),
    }),
  );
  puts.push({ id: `${tag}-c`, start, end: length });
  dict(`${tag}-d`, 'json', Buffer.from('{}'), 1);
  const byeStart = length;
  add(encodeControlFrame({ type: 'bye' }));
  return { bytes: Buffer.concat(parts), puts, helloEnd, byeStart };
}

/** Frame boundaries of `bytes`, to tell a cut inside a frame from one between frames. */
function boundaries(bytes: Buffer): Set<number> {
  const set = new Set<number>([0]);
  let off = 0;
  while (off < bytes.length) {
    off += 5 + bytes.readUInt32BE(off);
    set.add(off);
  }
  return set;
}

/** Writes `bytes`, shuts down the writing side, and collects every message until the server closes. */
async function halfClose(port: number, bytes: Buffer): Promise<{ messages: ServerMessage[]; closedBy: 'server' }> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await once(socket, 'connect');
  const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
  const messages: ServerMessage[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) messages.push(parseServerMessage(f.payload));
  });
  socket.on('error', () => undefined);
  socket.end(bytes);
  // The server must end its side on its own: the test fails (times out) if it waits for more input.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server did not close after a half-close (${messages.length} messages)`)),
      5000,
    );
    socket.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.destroy();
  return { messages, closedBy: 'server' };
}

describe('half-closed sessions', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ output: 'file' });
  });
  afterAll(async () => {
    await t.stop();
  });

  test('the whole session then a FIN: every put answered, then bye, then the server closes', async () => {
    const s = session('whole');
    const { messages } = await halfClose(t.server.port, s.bytes);
    expect(messages.map((m) => m.type)).toEqual([
      'welcome',
      'receipt',
      'receipt',
      'ready',
      'receipt',
      'receipt',
      'bye',
    ]);
    for (const put of s.puts) expect(await readReceipt(t.dataDir, put.id)).toBeDefined();
  });

  test('the session without bye then a FIN: every put answered, then the server closes', async () => {
    const s = session('nobye');
    const { messages } = await halfClose(t.server.port, s.bytes.subarray(0, s.byeStart));
    expect(messages.map((m) => m.type)).toEqual(['welcome', 'receipt', 'receipt', 'ready', 'receipt', 'receipt']);
  });

  test('a FIN at every byte: complete puts answered and stored, a cut put never stored, a cut frame is ERR_FRAME_TRUNCATED', async () => {
    const length = session('cut0').bytes.length;
    for (let cut = 0; cut <= length; cut++) {
      const s = session(`cut${String(cut).padStart(4, '0')}`);
      const frameEnds = boundaries(s.bytes);
      const { messages } = await halfClose(t.server.port, s.bytes.subarray(0, cut));
      const label = `FIN after ${cut} of ${s.bytes.length} bytes`;
      const receipts = messages.filter((m) => m.type === 'receipt').map((m) => (m as { id: string }).id);
      const complete = s.puts.filter((p) => p.end <= cut).map((p) => p.id);
      expect({ label, receipts }).toEqual({ label, receipts: cut < s.helloEnd ? [] : complete });
      expect({ label, welcome: messages[0]?.type === 'welcome' }).toEqual({ label, welcome: cut >= s.helloEnd });
      const last = messages[messages.length - 1];
      if (!frameEnds.has(cut)) {
        expect({ label, last }).toEqual({
          label,
          last: expect.objectContaining({ type: 'error', code: 'ERR_FRAME_TRUNCATED', fatal: true }),
        });
      } else if (cut === s.bytes.length) {
        expect({ label, last: last?.type }).toEqual({ label, last: 'bye' });
      }
      expect({ label, other: messages.filter((m) => m.type === 'error' && m.code !== 'ERR_FRAME_TRUNCATED') }).toEqual({
        label,
        other: [],
      });
      for (const put of s.puts) {
        const stored = (await readReceipt(t.dataDir, put.id)) !== undefined;
        expect({ label, id: put.id, stored }).toEqual({
          label,
          id: put.id,
          stored: put.end <= cut && cut >= s.helloEnd,
        });
      }
    }
  }, 120_000);
});
