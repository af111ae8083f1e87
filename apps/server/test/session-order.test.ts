/**
 * The order rules of a session (docs/PROTOCOL.md §4, "What may come when"): every row of the table, sent as raw
 * frames in one write (so frames sent before an answer are handled after it), with the answers and the close.
 */
import { join } from 'node:path';
import { encodeControlFrame, encodeFrame, FrameKind, type ServerMessage } from '@proj/protocol/wire';
import { listFiles, sha256Hex } from '@proj/test-utils';
import { RawClient, startTestServer, type TestServer } from './helpers';
import { Probe } from './reliability/harness';

describe('session order rules (docs/PROTOCOL.md §4)', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ output: 'file' });
  });
  afterEach(async () => {
    await t.stop();
  });

  it('a ping before hello is an unexpected message, fatal, not a pong', async () => {
    const c = await RawClient.connect(t.server.port);
    c.control({ type: 'ping', nonce: 'early' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_UNEXPECTED_MESSAGE', fatal: true });
    c.destroy();
  });

  it('a ping after the welcome is still answered', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'ping', nonce: 'late' });
    expect(await c.next()).toEqual({ type: 'pong', nonce: 'late' });
    c.destroy();
  });

  it('a cancel for another id during a file put is ignored, and the put completes', async () => {
    const c = await RawClient.welcomed(t.server.port);
    const body = Buffer.from('hello, file\n');
    c.control({ type: 'put_file', id: 'f-1', name: 'a.txt', size: body.length });
    expect(await c.next()).toEqual({ type: 'ready', id: 'f-1', offset: 0 });
    c.control({ type: 'cancel', id: 'someone-else' });
    c.data(body);
    c.control({ type: 'file_end', id: 'f-1', bytes: body.length, sha256: sha256Hex(body) });
    expect(await c.next()).toMatchObject({ type: 'receipt', id: 'f-1', bytes: body.length, duplicate: false });
    c.destroy();
  });

  it('a cancel for another id while a failed put is discarded is ignored', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'f-2', name: 'b.txt', size: 4 });
    expect(await c.next()).toEqual({ type: 'ready', id: 'f-2', offset: 0 });
    c.data(Buffer.from('too many bytes'));
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_SIZE_MISMATCH', id: 'f-2', fatal: false });
    c.control({ type: 'cancel', id: 'someone-else' });
    c.control({ type: 'file_end', id: 'f-2', bytes: 14, sha256: sha256Hex(Buffer.from('too many bytes')) });
    c.control({ type: 'ping', nonce: 'alive' });
    expect(await c.next()).toEqual({ type: 'pong', nonce: 'alive' });
    c.destroy();
  });
});

const ctl = (m: object): Buffer => encodeControlFrame(m);
const data = (b: string | Buffer): Buffer => Buffer.concat(encodeFrame(FrameKind.Data, Buffer.from(b)));
const HELLO = ctl({ type: 'hello', version: 1 });
const ping = (nonce: string): Buffer => ctl({ type: 'ping', nonce });
const BODY = '{"a":1}';
const putDict = (id: string, bytes = BODY.length): Buffer => ctl({ type: 'put_dict', id, format: 'json', bytes });
const putFile = (id: string, more: object = {}): Buffer => ctl({ type: 'put_file', id, name: 'f.txt', ...more });
const fileEnd = (id: string, body: string): Buffer =>
  ctl({ type: 'file_end', id, bytes: body.length, sha256: sha256Hex(Buffer.from(body)) });

/** One line per answer: `error CODE [id] [fatal]`, `receipt id [duplicate]`, `ready id`, `pong nonce`, `welcome`. */
function brief(m: ServerMessage): string {
  switch (m.type) {
    case 'error':
      return ['error', m.code, m.id, m.fatal ? 'fatal' : undefined].filter(Boolean).join(' ');
    case 'receipt':
      return `receipt ${m.id}${m.duplicate ? ' duplicate' : ''}`;
    case 'ready':
      return `ready ${m.id}`;
    case 'pong':
      return `pong ${m.nonce ?? ''}`;
    default:
      return m.type;
  }
}

/**
 * Writes `frames` and a final `ping end` in one write; returns the answers up to its pong, or up to the close
 * (then `closed` is the last line).
 */
async function answers(port: number, frames: Buffer[]): Promise<string[]> {
  const p = await Probe.connect(port);
  p.write(Buffer.concat([...frames, ping('end')]));
  const done = (): boolean => p.closed || p.messages.some((m) => m.type === 'pong' && m.nonce === 'end');
  expect(await p.until(done, 10_000)).toBe(true);
  const closed = p.closed;
  p.socket.destroy();
  expect(p.garbage).toEqual([]);
  return [...p.messages.map(brief), ...(closed ? ['closed'] : [])];
}

const UNEXPECTED = 'error ERR_UNEXPECTED_MESSAGE fatal';

/** The ids of the puts among `frames`. */
function putIds(frames: Buffer[]): string[] {
  return frames
    .filter((f) => f[4] === FrameKind.Control)
    .map((f) => JSON.parse(f.subarray(5).toString()) as { type: string; id?: string })
    .filter((m) => m.type === 'put_dict' || m.type === 'put_file')
    .map((m) => m.id as string);
}

describe('what may come when (docs/PROTOCOL.md §4): each row of the table over a real socket', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ output: 'file', limits: { maxFileBytes: 1000 } });
    // An id stored before, for the retries below.
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_dict', id: 'stored', format: 'json', bytes: BODY.length });
    c.data(Buffer.from(BODY));
    expect(await c.next()).toMatchObject({ type: 'receipt', id: 'stored' });
    c.destroy();
  });
  afterAll(async () => {
    await t.stop();
  });

  const storedIds = async (): Promise<string> => (await listFiles(join(t.dataDir, 'items'))).join('\n');

  const rows: Array<[string, Buffer[], string[]]> = [
    // Before the hello: only a hello.
    ['before hello: a data frame', [data('x')], [UNEXPECTED, 'closed']],
    ['before hello: ping', [ping('p')], [UNEXPECTED, 'closed']],
    ['before hello: put_dict', [putDict('h1')], [UNEXPECTED, 'closed']],
    ['before hello: cancel', [ctl({ type: 'cancel', id: 'h2' })], [UNEXPECTED, 'closed']],
    ['before hello: bye', [ctl({ type: 'bye' })], [UNEXPECTED, 'closed']],
    // Between puts.
    ['between puts: a data frame', [HELLO, data('x')], ['welcome', UNEXPECTED, 'closed']],
    ['between puts: file_end', [HELLO, fileEnd('b1', '')], ['welcome', UNEXPECTED, 'closed']],
    ['between puts: cancel is ignored', [HELLO, ctl({ type: 'cancel', id: 'b2' })], ['welcome', 'pong end']],
    ['between puts: a second hello', [HELLO, HELLO], ['welcome', UNEXPECTED, 'closed']],
    ['between puts: bye', [HELLO, ctl({ type: 'bye' })], ['welcome', 'bye', 'closed']],
    // A dictionary's body: data frames and ping only.
    [
      'dict body: ping is answered at once, the put goes on',
      [HELLO, putDict('d1'), data(BODY.slice(0, 3)), ping('p'), data(BODY.slice(3))],
      ['welcome', 'pong p', 'receipt d1', 'pong end'],
    ],
    [
      'dict body: cancel',
      [HELLO, putDict('d2'), data('{"'), ctl({ type: 'cancel', id: 'd2' })],
      ['welcome', UNEXPECTED, 'closed'],
    ],
    ['dict body: bye', [HELLO, putDict('d3'), data('{"'), ctl({ type: 'bye' })], ['welcome', UNEXPECTED, 'closed']],
    ['dict body: put_file', [HELLO, putDict('d4'), data('{"'), putFile('d5')], ['welcome', UNEXPECTED, 'closed']],
    [
      'dict body: a data frame past `bytes`',
      [HELLO, putDict('d6'), data(`${BODY} `)],
      ['welcome', 'error ERR_SIZE_MISMATCH fatal', 'closed'],
    ],
    // A file's body, sent without waiting for ready: handled after it.
    [
      'file body: ping is answered at once, the put goes on',
      [HELLO, putFile('f1'), data('ab'), ping('p'), data('c'), fileEnd('f1', 'abc')],
      ['welcome', 'ready f1', 'pong p', 'receipt f1', 'pong end'],
    ],
    [
      'file body: cancel ends it unanswered; the next put is served',
      [HELLO, putFile('f2'), data('ab'), ctl({ type: 'cancel', id: 'f2' }), putDict('g2'), data(BODY)],
      ['welcome', 'ready f2', 'receipt g2', 'pong end'],
    ],
    [
      'file body: cancel for another id is ignored',
      [HELLO, putFile('f3'), data('ab'), ctl({ type: 'cancel', id: 'other' }), data('c'), fileEnd('f3', 'abc')],
      ['welcome', 'ready f3', 'receipt f3', 'pong end'],
    ],
    [
      'file body: file_end for another id',
      [HELLO, putFile('f4'), data('ab'), fileEnd('other', 'ab')],
      ['welcome', 'ready f4', UNEXPECTED, 'closed'],
    ],
    [
      'file body: put_dict',
      [HELLO, putFile('f5'), data('ab'), putDict('f5-d')],
      ['welcome', 'ready f5', UNEXPECTED, 'closed'],
    ],
    ['file body: hello', [HELLO, putFile('f6'), HELLO], ['welcome', 'ready f6', UNEXPECTED, 'closed']],
    [
      'file body: bye abandons the put',
      [HELLO, putFile('f7'), data('ab'), ctl({ type: 'bye' })],
      ['welcome', 'ready f7', 'bye', 'closed'],
    ],
    // A file put failed mid-stream: its data frames are skipped until its file_end or cancel.
    [
      'skipping: data ignored, its file_end ends it unanswered',
      [HELLO, putFile('s1', { size: 2 }), data('abc'), data('more'), ping('p'), fileEnd('s1', 'abcmore')],
      ['welcome', 'ready s1', 'error ERR_SIZE_MISMATCH s1', 'pong p', 'pong end'],
    ],
    [
      'skipping: its cancel ends it unanswered, one for another id is ignored',
      [
        HELLO,
        putFile('s2', { size: 2 }),
        data('abc'),
        ctl({ type: 'cancel', id: 'other' }),
        data('x'),
        ctl({ type: 'cancel', id: 's2' }),
      ],
      ['welcome', 'ready s2', 'error ERR_SIZE_MISMATCH s2', 'pong end'],
    ],
    [
      'skipping: file_end for another id',
      [HELLO, putFile('s3', { size: 2 }), data('abc'), fileEnd('other', '')],
      ['welcome', 'ready s3', 'error ERR_SIZE_MISMATCH s3', UNEXPECTED, 'closed'],
    ],
    [
      'skipping: put_dict',
      [HELLO, putFile('s4', { size: 2 }), data('abc'), putDict('s4-d')],
      ['welcome', 'ready s4', 'error ERR_SIZE_MISMATCH s4', UNEXPECTED, 'closed'],
    ],
    [
      'skipping: bye',
      [HELLO, putFile('s5', { size: 2 }), data('abc'), ctl({ type: 'bye' })],
      ['welcome', 'ready s5', 'error ERR_SIZE_MISMATCH s5', 'bye', 'closed'],
    ],
    // Data sent before the answer to put_file: handled in the state that answer leaves.
    [
      'before ready, the put refused: its data frame comes with no put in progress',
      [HELLO, putFile('r1', { name: '..' }), data('ab'), fileEnd('r1', 'ab')],
      ['welcome', 'error ERR_NAME_INVALID r1', UNEXPECTED, 'closed'],
    ],
    [
      'before ready, the id stored: its data frame comes with no put in progress',
      [HELLO, putFile('stored'), data('ab')],
      ['welcome', 'receipt stored duplicate', UNEXPECTED, 'closed'],
    ],
  ];

  it.each(rows)('%s', async (_name, frames, expected) => {
    expect(await answers(t.server.port, frames)).toEqual(expected);
    // A put is stored exactly when it got a receipt of its own: abandoned, cancelled and failed ones leave nothing.
    const items = await storedIds();
    for (const id of putIds(frames).filter((i) => i !== 'stored')) {
      const stored = items.includes(`-${id}-`);
      expect({ id, stored }).toEqual({ id, stored: expected.includes(`receipt ${id}`) });
    }
  });
});
