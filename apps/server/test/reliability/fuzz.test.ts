/**
 * Hostile input at the socket (docs/RELIABILITY.md §1). Sessions are generated from a grammar with a seeded PRNG:
 * a hello (valid or broken), then steps drawn from valid puts, puts with broken fields, frames in the wrong
 * order, lies in lengths and checksums, huge declared sizes, deep or huge dictionaries, hostile XML, garbage
 * protobuf, hostile and non-UTF-8 names, random bytes; the bytes are written split at random offsets.
 *
 * For every session: every byte the server sends is a valid frame and envelope; the session ends with an answer
 * to a final ping, or with a coded fatal error (or `bye`) followed by a close, within a deadline (no hang).
 * After every batch: the data directory holds only receipts whose items exist and match, items that all have
 * receipts, no temporaries, nothing stray anywhere in the parent directory; every receipt a fuzz client got is
 * on disk; and a well-behaved client is still served.
 *
 * Replay a failure with RELIABILITY_SEED=<seed printed> (and RELIABILITY_LONG if it was the long form).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, encodeControlFrame, encodeDict, encodeFrame, encodeFrameHeader, FrameKind, type Dict } from '@proj/protocol';
import { makeTempDir } from '@proj/test-utils';
import { startTestServer, waitFor, type TestServer } from '../helpers';
import { auditDataDir, baseSeed, checkAcknowledged, Probe, recordFigures, Rng, scale, sha256 } from './harness';

const SESSIONS = Number(process.env['RELIABILITY_FUZZ_SESSIONS'] ?? scale(400, 12_000));
const CONCURRENCY = Number(process.env["RELIABILITY_FUZZ_CONCURRENCY"] ?? scale(64, 64));
const BATCH = scale(200, 1000);
const TIMEOUT_MS = 700;
const LIMITS = { maxFrameBytes: 64 * 1024, maxDictBytes: 32 * 1024, maxDictDepth: 16, maxFileBytes: 256 * 1024, idleTimeoutMs: TIMEOUT_MS, handshakeTimeoutMs: TIMEOUT_MS };

interface Session {
  seed: number;
  steps: string[];
  bytes: Buffer;
  /** Frames written (as generated, before the random split). */
  frames: number;
  /** Whether the session ends on purpose with `bye`. */
  bye: boolean;
  /** Puts that are valid in every field, by id: what their receipt must say. */
  valid: Map<string, { sha256: string; bytes: number }>;
}

const HOSTILE_NAMES = [
  '../../../../etc/passwd', '/etc/shadow', '..\\..\\windows\\system32\\x.dll', 'a/../../b.txt', '..', '.', '/', '\\',
  'CON', 'nul.txt', 'com1', '\u0000evil', 'line\nbreak\r.txt', '\ud800\udfff\ud800.bin', '\udc00lone', '..%2f..%2fx',
  'ok.txt', '‮txt.exe', 'x'.repeat(1024), 'é'.repeat(500), '.hidden', 'trailing...', ' ', '😀.png', 'a:b*c?d"e<f>g|h',
];

function randomDict(rng: Rng, depth = 1): Dict {
  const d: Dict = {};
  const n = rng.int(0, 5);
  for (let i = 0; i < n; i++) {
    const k = rng.pick(['a', 'b', 'name', 'é', '__proto__', 'constructor', `k${rng.int(0, 99)}`, '']);
    const r = rng.next();
    let v: Dict[string];
    if (r < 0.2 && depth < 5) v = randomDict(rng, depth + 1);
    else if (r < 0.35 && depth < 5) v = [rng.int(-5, 5), 'x', null, true];
    else if (r < 0.55) v = rng.int(-1e9, 1e9);
    else if (r < 0.7) v = rng.next() * 1000;
    else if (r < 0.8) v = rng.bool();
    else if (r < 0.85) v = null;
    else v = 'v'.repeat(rng.int(0, 40));
    // An own property even for `__proto__` (plain assignment would set the prototype).
    Object.defineProperty(d, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return d;
}

/** Dictionary bodies that must be refused (or, for a few, may pass): each one a known attack or malformation. */
function hostileDictBody(rng: Rng): { format: 'json' | 'xml' | 'protobuf'; body: Buffer; what: string } {
  const deep = rng.int(17, 5000);
  const choices: Array<() => { format: 'json' | 'xml' | 'protobuf'; body: Buffer; what: string }> = [
    () => ({ format: 'json', body: Buffer.from(`${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}`), what: `deep json ${deep}` }),
    () => ({ format: 'json', body: Buffer.from(`{"a":${'['.repeat(deep)}${']'.repeat(deep)}}`), what: `deep json array ${deep}` }),
    () => ({ format: 'json', body: Buffer.from(`{"a":[${'0,'.repeat(10_000)}0]}`), what: 'wide json array' }),
    () => ({ format: 'json', body: Buffer.from(`[1,2,3]`), what: 'json array root' }),
    () => ({ format: 'json', body: Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), what: 'json BOM' }),
    () => ({ format: 'json', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), what: 'json invalid utf-8' }),
    () => ({ format: 'json', body: Buffer.from('{"a":1e999}'), what: 'json infinity' }),
    () => ({ format: 'json', body: Buffer.from('{"a":"\\ud800"}'), what: 'json lone surrogate' }),
    () => ({ format: 'json', body: Buffer.from('{"__proto__":{"polluted":1}}'), what: 'json __proto__' }),
    () => ({ format: 'json', body: Buffer.from('{"a":'), what: 'json truncated' }),
    () => ({ format: 'json', body: Buffer.from(`{"${'"'.repeat(3)}`), what: 'json quotes' }),
    () => ({ format: 'xml', body: Buffer.from('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><dict><string key="a">&lol2;</string></dict>'), what: 'xml billion laughs' }),
    () => ({ format: 'xml', body: Buffer.from('<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><dict><string key="a">&xxe;</string></dict>'), what: 'xml xxe' }),
    () => ({ format: 'xml', body: Buffer.from('<?php system("id") ?><dict/>'), what: 'xml processing instruction' }),
    () => ({ format: 'xml', body: Buffer.from(`${'<dict><dict key="a">'.repeat(deep)}${'</dict></dict>'.repeat(deep)}`), what: `deep xml ${deep}` }),
    () => ({ format: 'xml', body: Buffer.from('<dict><string key="a">unclosed</dict>'), what: 'xml malformed' }),
    () => ({ format: 'xml', body: Buffer.from('<dict><number key="a">NaN</number></dict>'), what: 'xml NaN' }),
    () => ({ format: 'xml', body: Buffer.from('<dict xmlns:x="urn:x"><x:evil key="a"/></dict>'), what: 'xml unknown element' }),
    () => ({ format: 'xml', body: Buffer.concat([Buffer.from('<dict><string key="'), Buffer.from([0xc3, 0x28]), Buffer.from('">x</string></dict>')]), what: 'xml invalid utf-8' }),
    () => ({ format: 'protobuf', body: rng.bytes(rng.int(0, 512)), what: 'garbage protobuf' }),
    () => ({ format: 'protobuf', body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), what: 'protobuf length lie' }),
    () => {
      // Nested Struct -> Value -> Struct ... `deep` times: field 1 (entry) { key "a", value { struct_value { … } } }.
      let inner = Buffer.alloc(0);
      for (let i = 0; i < Math.min(deep, 400); i++) {
        const value = Buffer.concat([Buffer.from([0x2a]), varint(inner.length), inner]); // Value.struct_value = 5
        const entry = Buffer.concat([Buffer.from([0x0a, 0x01, 0x61, 0x12]), varint(value.length), value]);
        inner = Buffer.concat([Buffer.from([0x0a]), varint(entry.length), entry]);
      }
      return { format: 'protobuf', body: inner, what: `deep protobuf ${Math.min(deep, 400)}` };
    },
    () => ({ format: rng.pick(['json', 'xml', 'protobuf'] as const), body: rng.bytes(rng.int(1, 2048)), what: 'random bytes as a dictionary' }),
  ];
  return rng.pick(choices)();
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

const ctl = (m: object): Buffer => encodeControlFrame(m);
const dataFrame = (b: Uint8Array): Buffer => Buffer.concat(encodeFrame(FrameKind.Data, b));

function generate(seed: number): Session {
  const rng = new Rng(seed);
  const parts: Buffer[] = [];
  const steps: string[] = [];
  const valid = new Map<string, { sha256: string; bytes: number }>();
  let frames = 0;
  const push = (b: Buffer, n = 1): void => {
    parts.push(b);
    frames += n;
  };
  const id = (): string => `s${seed.toString(36)}-${parts.length}-${rng.int(0, 1e6)}`;
  const validData = (body: Buffer): void => {
    let off = 0;
    while (off < body.length) {
      const n = Math.min(body.length - off, rng.int(1, 40_000));
      push(dataFrame(body.subarray(off, off + n)));
      off += n;
    }
  };

  // The hello: usually valid, sometimes broken.
  const h = rng.next();
  if (h < 0.8) {
    push(ctl({ type: 'hello', version: 1, ...(rng.bool(0.3) ? { agent: 'fuzz', capabilities: ['x', 'resume'] } : {}) }));
    steps.push('hello');
  } else {
    const broken = rng.pick<[string, Buffer]>([
      ['hello v2', ctl({ type: 'hello', version: 2 })],
      ['hello v0', ctl({ type: 'hello', version: 0 })],
      ['hello unknown field', ctl({ type: 'hello', version: 1, root: true })],
      ['hello huge capabilities', ctl({ type: 'hello', version: 1, capabilities: Array.from({ length: 65 }, () => 'c') })],
      ['hello with a token', ctl({ type: 'hello', version: 1, token: 'nobody-asked' })],
      ['put before hello', ctl({ type: 'put_dict', id: 'early', format: 'json', bytes: 2 })],
      ['data before hello', dataFrame(Buffer.from('{}'))],
      ['random bytes first', rng.bytes(rng.int(1, 300))],
      ['huge frame first', encodeFrameHeader(FrameKind.Control, 0xffffffff)],
      ['bad kind first', Buffer.from([0, 0, 0, 0, rng.int(3, 255)])],
      ['non-JSON control', Buffer.concat([encodeFrameHeader(FrameKind.Control, 4), Buffer.from([0xff, 0xfe, 0x00, 0x7b])])],
    ]);
    push(broken[1]);
    steps.push(broken[0]);
  }

  const nSteps = rng.int(1, 6);
  for (let s = 0; s < nSteps; s++) {
    const r = rng.next();
    if (r < 0.18) {
      // A valid dictionary put.
      const format = rng.pick(['json', 'xml', 'protobuf'] as const);
      const body = Buffer.from(encodeDict(randomDict(rng), format));
      const pid = id();
      push(ctl({ type: 'put_dict', id: pid, format, bytes: body.length }));
      validData(body);
      valid.set(pid, { sha256: sha256(body), bytes: body.length });
      steps.push(`valid dict ${format} ${body.length}`);
    } else if (r < 0.32) {
      // A valid file put, sent without waiting for ready (the server reads frames in order).
      const body = rng.bytes(rng.int(0, 100_000));
      const pid = id();
      const name = rng.bool(0.5) ? rng.pick(HOSTILE_NAMES) : `file-${rng.int(0, 99)}.bin`;
      push(ctl({ type: 'put_file', id: pid, name, ...(rng.bool() ? { size: body.length } : {}) }));
      validData(body);
      push(ctl({ type: 'file_end', id: pid, bytes: body.length, sha256: sha256(body) }));
      // Names that clean to nothing are refused: their receipt is not required.
      if (!['..', '.', '/', '\\', ' '].includes(name)) valid.set(pid, { sha256: sha256(body), bytes: body.length });
      steps.push(`valid file ${body.length} name=${JSON.stringify(name.slice(0, 20))}`);
    } else if (r < 0.45) {
      const { format, body, what } = hostileDictBody(rng);
      const pid = id();
      const lie = rng.next();
      const declared = lie < 0.8 ? body.length : lie < 0.9 ? body.length + rng.int(1, 100) : Math.max(0, body.length - rng.int(1, 100));
      push(ctl({ type: 'put_dict', id: pid, format, bytes: declared }));
      validData(body);
      steps.push(`hostile dict: ${what}, declared ${declared} of ${body.length}`);
    } else if (r < 0.58) {
      // A file put with a lie: wrong checksum, wrong count, size exceeded, over the file limit.
      const body = rng.bytes(rng.int(1, 50_000));
      const pid = id();
      const kind = rng.int(0, 5);
      const size = kind === 2 ? body.length - 1 : kind === 3 ? 10 * 1024 * 1024 * 1024 : undefined;
      push(ctl({ type: 'put_file', id: pid, name: 'lie.bin', ...(size !== undefined ? { size } : {}), ...(kind === 4 ? { offset: 5 } : {}) }));
      validData(body);
      if (kind === 5) validData(rng.bytes(300_000));
      const sum = kind === 0 ? sha256(Buffer.from('other')) : sha256(body);
      push(ctl({ type: 'file_end', id: pid, bytes: kind === 1 ? body.length + 1 : body.length, sha256: sum }));
      steps.push(`lying file kind ${kind}`);
    } else if (r < 0.66) {
      // Wrong order.
      const pid = id();
      const pick = rng.pick<[string, Buffer[]]>([
        ['file_end without put', [ctl({ type: 'file_end', id: pid, bytes: 0, sha256: sha256(Buffer.alloc(0)) })]],
        ['stray data', [dataFrame(rng.bytes(rng.int(0, 100)))]],
        ['second hello', [ctl({ type: 'hello', version: 1 })]],
        ['cancel nothing', [ctl({ type: 'cancel', id: pid })]],
        ['put during put', [ctl({ type: 'put_file', id: pid, name: 'a' }), ctl({ type: 'put_dict', id: `${pid}x`, format: 'json', bytes: 2 })]],
        ['file_end for another id', [ctl({ type: 'put_file', id: pid, name: 'a' }), ctl({ type: 'file_end', id: `${pid}x`, bytes: 0, sha256: sha256(Buffer.alloc(0)) })]],
        ['cancel mid-file', [ctl({ type: 'put_file', id: pid, name: 'a' }), dataFrame(rng.bytes(1000)), ctl({ type: 'cancel', id: pid })]],
        ['welcome from a client', [ctl({ type: 'welcome', version: 1 })]],
      ]);
      for (const b of pick[1]) push(b);
      steps.push(`wrong order: ${pick[0]}`);
    } else if (r < 0.74) {
      // Broken envelopes.
      const pick = rng.pick<[string, Buffer]>([
        ['null field', ctl({ type: 'put_dict', id: 'x', format: 'json', bytes: null })],
        ['negative bytes', ctl({ type: 'put_dict', id: 'x', format: 'json', bytes: -1 })],
        ['float bytes', ctl({ type: 'put_dict', id: 'x', format: 'json', bytes: 1.5 })],
        ['unsafe bytes', ctl({ type: 'put_dict', id: 'x', format: 'json', bytes: 2 ** 60 })],
        ['bad id', ctl({ type: 'put_dict', id: '../../x', format: 'json', bytes: 2 })],
        ['long id', ctl({ type: 'put_dict', id: 'a'.repeat(129), format: 'json', bytes: 2 })],
        ['bad format', ctl({ type: 'put_dict', id: 'x', format: 'pickle', bytes: 2 })],
        ['bad sha', ctl({ type: 'file_end', id: 'x', bytes: 0, sha256: 'ZZ' })],
        ['long name', ctl({ type: 'put_file', id: 'x', name: 'n'.repeat(1025) })],
        ['array envelope', ctl([1, 2, 3])],
        ['not JSON', Buffer.concat([encodeFrameHeader(FrameKind.Control, 5), Buffer.from('hello')])],
        ['invalid UTF-8 JSON', Buffer.concat([encodeFrameHeader(FrameKind.Control, 12), Buffer.from('{"type":"\xff"}', 'latin1').subarray(0, 12)])],
        ['deep JSON envelope', (() => { const t = `${'['.repeat(20_000)}${']'.repeat(20_000)}`; return Buffer.concat([encodeFrameHeader(FrameKind.Control, t.length), Buffer.from(t)]); })()],
        ['huge dict declared', ctl({ type: 'put_dict', id: 'x', format: 'json', bytes: 2 ** 40 })],
      ]);
      push(pick[1]);
      steps.push(`broken envelope: ${pick[0]}`);
    } else if (r < 0.82) {
      // Framing lies.
      const pick = rng.pick<[string, Buffer]>([
        ['huge frame', encodeFrameHeader(rng.pick([FrameKind.Control, FrameKind.Data]), rng.int(64 * 1024 + 1, 0xffffffff))],
        ['bad kind', Buffer.concat([Buffer.from([0, 0, 0, 1, rng.pick([0, 3, 0x7f, 0xff])]), Buffer.from([0])])],
        ['short frame', Buffer.concat([encodeFrameHeader(FrameKind.Control, 100), Buffer.from('{"type":"ping"}')])],
        ['random bytes', rng.bytes(rng.int(1, 4000))],
        ['empty control', encodeFrameHeader(FrameKind.Control, 0)],
      ]);
      push(pick[1]);
      steps.push(`framing: ${pick[0]}`);
    } else if (r < 0.9) {
      push(ctl({ type: 'ping', ...(rng.bool() ? { nonce: 'n'.repeat(rng.int(0, 64)) } : {}) }));
      steps.push('ping');
    } else if (r < 0.95) {
      // A valid put whose id is then repeated: the second must be a duplicate.
      const body = Buffer.from(encodeDict(randomDict(rng), 'json'));
      const pid = id();
      for (let k = 0; k < 2; k++) {
        push(ctl({ type: 'put_dict', id: pid, format: 'json', bytes: body.length }));
        validData(body);
      }
      valid.set(pid, { sha256: sha256(body), bytes: body.length });
      steps.push('dict twice');
    } else {
      // A file in zero-length frames and one-byte frames.
      const body = rng.bytes(rng.int(1, 200));
      const pid = id();
      push(ctl({ type: 'put_file', id: pid, name: 'tiny.bin' }));
      for (const byte of body) {
        push(dataFrame(Buffer.alloc(0)));
        push(dataFrame(Buffer.from([byte])));
      }
      push(ctl({ type: 'file_end', id: pid, bytes: body.length, sha256: sha256(body) }));
      valid.set(pid, { sha256: sha256(body), bytes: body.length });
      steps.push(`tiny frames file ${body.length}`);
    }
  }
  const bye = rng.bool(0.1);
  if (bye) {
    push(ctl({ type: 'bye' }));
    steps.push('bye');
  }
  return { seed, steps, bytes: Buffer.concat(parts), frames, bye, valid };
}

interface Outcome {
  failures: string[];
  acked: Array<{ id: string; path: string; sha256: string; bytes: number }>;
  codes: string[];
  ending: 'pong' | 'closed-after-error' | 'bye';
}

async function runSession(port: number, s: Session): Promise<Outcome> {
  const rng = new Rng(s.seed ^ 0x9e3779b9);
  const p = await Probe.connect(port);
  const failures: string[] = [];
  // Write in random pieces, some of them one byte long, yielding between writes.
  let off = 0;
  while (off < s.bytes.length && !p.closed) {
    const n = rng.bool(0.1) ? 1 : rng.int(1, 70_000);
    p.write(s.bytes.subarray(off, off + n));
    off += n;
    if (rng.bool(0.2)) await new Promise((r) => setImmediate(r));
  }
  const nonce = `end-${s.seed}`;
  if (!s.bye) p.write(ctl({ type: 'ping', nonce }));
  // Every session ends within the server's timeouts: a pong, or a close. Allow for a busy 2-core machine.
  const done = await p.until(() => p.messages.some((m) => m.type === 'pong' && m.nonce === nonce), 8000);
  if (!done && !p.closed) failures.push('no answer and no close within 8 s (hang)');
  let ending: Outcome['ending'] = 'pong';
  if (!done) {
    const last = p.messages[p.messages.length - 1];
    if (last?.type === 'bye') ending = 'bye';
    else if (last?.type === 'error' && last.fatal) ending = 'closed-after-error';
    else if (p.closed) failures.push(`closed without a coded fatal error; last message ${JSON.stringify(last)?.slice(0, 200)}`);
  }
  failures.push(...p.garbage);
  const acked: Outcome['acked'] = [];
  const codes: string[] = [];
  const firsts = new Map<string, { sha256: string; path: string }>();
  for (const m of p.messages) {
    if (m.type === 'error') {
      codes.push(m.code);
      if (m.code === 'ERR_INTERNAL') failures.push(`ERR_INTERNAL: ${m.message}`);
    }
    if (m.type === 'receipt') {
      acked.push({ id: m.id, path: m.path, sha256: m.sha256, bytes: m.bytes });
      const expected = s.valid.get(m.id);
      if (expected && (expected.sha256 !== m.sha256 || expected.bytes !== m.bytes)) failures.push(`receipt ${m.id} does not match what was sent`);
      const first = firsts.get(m.id);
      if (first && (first.path !== m.path || !m.duplicate)) failures.push(`second receipt of ${m.id} is not the first one, duplicate`);
      if (!first) firsts.set(m.id, { sha256: m.sha256, path: m.path });
    }
  }
  p.socket.destroy();
  return { failures, acked, codes, ending };
}

describe('fuzzed sessions at the socket', () => {
  let parent: { path: string; remove: () => Promise<void> };
  let t: TestServer;
  const seed = baseSeed();

  beforeAll(async () => {
    parent = await makeTempDir('fuzz-parent-');
    t = await startTestServer({ dataDir: join(parent.path, 'data'), output: 'file', logLevel: 'silent', limits: LIMITS });
  });
  afterAll(async () => {
    await t.server.close(0);
    await parent.remove();
  });

  it(`${SESSIONS} sessions: never a crash, a hang, an uncoded close or a stray file; acknowledged = stored`, async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const allAcked = new Map<string, { id: string; path: string; sha256: string; bytes: number }>();
    const codes = new Map<string, number>();
    const endings = new Map<string, number>();
    let frames = 0;
    let bytes = 0;
    let healthChecks = 0;
    const started = Date.now();
    try {
      for (let b = 0; b < SESSIONS; b += BATCH) {
        const failures: string[] = [];
        let next = b;
        const end = Math.min(b + BATCH, SESSIONS);
        const worker = async (): Promise<void> => {
          while (next < end) {
            const s = generate((seed + next++) >>> 0);
            frames += s.frames;
            bytes += s.bytes.length;
            const o = await runSession(t.server.port, s);
            for (const a of o.acked) allAcked.set(a.id, a);
            for (const c of o.codes) codes.set(c, (codes.get(c) ?? 0) + 1);
            endings.set(o.ending, (endings.get(o.ending) ?? 0) + 1);
            for (const f of o.failures) failures.push(`seed ${s.seed}: ${f}\n  session: ${s.steps.join(' | ')}`);
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        // Every session's temporaries are gone once the server has seen the close.
        await waitFor(async () => (await auditDataDir(t.dataDir)).temps.length === 0, 10_000).catch(() => undefined);
        const audit = await auditDataDir(t.dataDir);
        if (audit.temps.length > 0) failures.push(`temporaries left: ${audit.temps.join(', ')}`);
        failures.push(...audit.problems, ...checkAcknowledged(audit, allAcked.values()));
        const outside = await readdir(parent.path);
        if (outside.join() !== 'data') failures.push(`stray entries beside the data directory: ${outside.join(', ')}`);
        // A well-behaved client is still served.
        const c = await connect({ port: t.server.port, timeoutMs: 10_000 });
        const r = await c.sendDict({ healthy: b });
        await c.close();
        healthChecks += 1;
        if (r.type !== 'receipt') failures.push('health check failed');
        allAcked.set(r.id, r);
        if (unhandled.length > 0) failures.push(`unhandled rejections: ${unhandled.map(String).join('; ')}`);
        if (process.env['RELIABILITY_DEBUG']) console.log(`batch ${b}: ${Date.now() - started} ms`, Object.fromEntries(endings));
        if (failures.length > 0) {
          throw new Error(`fuzz failures (base seed ${seed}, replay with RELIABILITY_SEED=${seed}):\n${failures.slice(0, 20).join('\n')}`);
        }
      }
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    const audit = await auditDataDir(t.dataDir);
    recordFigures('fuzz', {
      seed,
      sessions: SESSIONS,
      framesGenerated: frames,
      bytesSent: bytes,
      seconds: (Date.now() - started) / 1000,
      endings: Object.fromEntries(endings),
      errorCodes: Object.fromEntries([...codes].sort()),
      acknowledged: allAcked.size,
      receiptsOnDisk: audit.receipts,
      itemsOnDisk: audit.items,
      healthChecks,
    });
    expect(audit.receipts).toBeGreaterThanOrEqual(allAcked.size);
  }, scale(300_000, 3_600_000));
});
