/**
 * Frames are handled strictly in order, each as if it had arrived alone, however TCP splits the stream
 * (docs/PROTOCOL.md §2). The real server is sent the session vector (spec/vectors/sessions), and
 * hello + ping + a bad frame header, in one write, split in two at every offset, and one byte per write: the
 * answers must be the same every time. Frames before a fatal framing error are answered before the error.
 */
import { encodeControlFrame, encodeFrameHeader, FrameKind, type ServerMessage } from '@proj/protocol/wire';
import { specWireVector } from '@proj/test-utils';
import { Probe } from './reliability/harness';
import { sleep, startTestServer, type TestServer } from './helpers';

const SESSION = specWireVector('sessions/client-to-server.json').bytes;
/** The put ids in the session vector; each run writes them with a tag of the same length instead (same frames). */
const IDS = ['d-0001', 'f-0001'];

/** The session vector with its put ids made unique to `tag` (4 characters), so that no run is a retry. */
function sessionTagged(tag: string): Buffer {
  let text = SESSION.toString('latin1');
  for (const id of IDS) {
    expect(text.includes(id)).toBe(true);
    text = text.split(id).join(`${id.slice(0, 2)}${tag}`);
  }
  return Buffer.from(text, 'latin1');
}

const HELLO = encodeControlFrame({ type: 'hello', version: 1, capabilities: [], agent: 'segmentation-test' });
const PING = encodeControlFrame({ type: 'ping', nonce: 'n-1' });

/** Sequences that end in a fatal framing error: the frames before it must be answered first. */
const FATAL: Array<{ name: string; bytes: Buffer; code: string }> = [
  {
    name: 'hello + ping + a frame of unknown kind',
    bytes: Buffer.concat([HELLO, PING, Buffer.from([0, 0, 0, 0, 0x07])]),
    code: 'ERR_FRAME_KIND',
  },
  {
    name: 'hello + ping + a control header over 64 KiB',
    bytes: Buffer.concat([HELLO, PING, encodeFrameHeader(FrameKind.Control, 64 * 1024 + 1)]),
    code: 'ERR_FRAME_TOO_LARGE',
  },
  {
    name: 'hello + ping + a data header over maxFrameBytes',
    bytes: Buffer.concat([HELLO, PING, encodeFrameHeader(FrameKind.Data, 1024 * 1024 + 1)]),
    code: 'ERR_FRAME_TOO_LARGE',
  },
];

/** `bytes` split at `offset` (one write when 0), or one byte per write with `offset` -1. */
function pieces(bytes: Buffer, offset: number): Buffer[] {
  if (offset === -1) return Array.from(bytes, (b) => Buffer.from([b]));
  return offset === 0 ? [bytes] : [bytes.subarray(0, offset), bytes.subarray(offset)];
}

/**
 * Writes the pieces with a pause between them (so the server reads them apart), waits for the server to close,
 * and returns its answers, with what differs from run to run by design (the tag, the time) made constant.
 */
async function answers(port: number, parts: Buffer[], tag?: string): Promise<string[]> {
  const probe = await Probe.connect(port);
  for (const [i, part] of parts.entries()) {
    if (i > 0) await sleep(parts.length > 2 ? 1 : 5);
    probe.write(part);
  }
  const closed = await probe.until(() => probe.closed, 15_000);
  probe.socket.destroy();
  expect({ closed, garbage: probe.garbage }).toEqual({ closed: true, garbage: [] });
  return probe.messages.map((m) => normalise(m, tag));
}

function normalise(m: ServerMessage, tag: string | undefined): string {
  const copy: Record<string, unknown> = { ...m };
  if (m.type === 'receipt') {
    copy.receivedAt = 'T';
    copy.path = m.path.replace(/^items\/\d{4}-\d{2}-\d{2}\/\d{6}-/, 'items/DAY/HHMMSS-');
  }
  let text = JSON.stringify(copy);
  if (tag !== undefined)
    for (const id of IDS) text = text.split(`${id.slice(0, 2)}${tag}`).join(`${id.slice(0, 2)}TAG`);
  return text;
}

/** Runs `jobs` with at most `width` at a time. */
async function inParallel(jobs: Array<() => Promise<void>>, width: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await (jobs[next++] as () => Promise<void>)();
  };
  await Promise.all(Array.from({ length: width }, worker));
}

describe('the same answers however the stream is split (docs/PROTOCOL.md §2)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ output: 'file' });
  });
  afterAll(async () => {
    await t.stop();
  });

  test('the session vector, in one write, split at every offset, and one byte per write', async () => {
    let runs = 0;
    const tag = (): string => (runs++).toString(36).padStart(4, '0');
    const first = tag();
    const whole = await answers(t.server.port, pieces(sessionTagged(first), 0), first);
    expect(whole.map((a) => (JSON.parse(a) as { type: string }).type)).toEqual([
      'welcome',
      'receipt',
      'ready',
      'receipt',
      'bye',
    ]);
    expect(whole.filter((a) => a.includes('"duplicate":true'))).toEqual([]);
    const offsets = [-1, ...Array.from({ length: SESSION.length - 1 }, (_, i) => i + 1)];
    const differ: Array<{ offset: number; got: string[] }> = [];
    await inParallel(
      offsets.map((offset) => async () => {
        const mine = tag();
        const got = await answers(t.server.port, pieces(sessionTagged(mine), offset), mine);
        if (JSON.stringify(got) !== JSON.stringify(whole)) differ.push({ offset, got });
      }),
      6,
    );
    expect(differ).toEqual([]);
  }, 120_000);

  for (const { name, bytes, code } of FATAL) {
    test(`${name}: welcome, pong, then ${code} (fatal), at every split`, async () => {
      const whole = await answers(t.server.port, [bytes]);
      expect(whole.map((a) => JSON.parse(a) as Record<string, unknown>)).toEqual([
        expect.objectContaining({ type: 'welcome' }),
        { type: 'pong', nonce: 'n-1' },
        expect.objectContaining({ type: 'error', code, fatal: true }),
      ]);
      const offsets = [-1, ...Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)];
      const differ: Array<{ offset: number; got: string[] }> = [];
      await inParallel(
        offsets.map((offset) => async () => {
          const got = await answers(t.server.port, pieces(bytes, offset));
          if (JSON.stringify(got) !== JSON.stringify(whole)) differ.push({ offset, got });
        }),
        6,
      );
      expect(differ).toEqual([]);
    }, 60_000);
  }
});
