/**
 * What the fuzz suite's sessions are made of (fuzz-sessions.ts): hostile file names, random and padded
 * dictionaries, dictionary bodies that are known attacks or malformations, broken hellos and envelopes, messages
 * in the wrong order, framing lies. Every choice comes from the seeded PRNG.
 */
import { createCipheriv } from 'node:crypto';
import { encodeControlFrame, encodeFrame, encodeFrameHeader, FrameKind } from '@proj/protocol/wire';
import { encodeDict, type Dict } from '@proj/protocol/dict';
import { sha256, type Rng } from './harness';

/**
 * `n` bytes determined by the PRNG: AES-128-CTR keyed from it. Rng.bytes costs ~1 µs a byte, and the whole fuzz
 * run (server included) shares one event loop: a 300 KB body drawn byte by byte stalled every session ~250 ms.
 */
export function seededBytes(rng: Rng, n: number): Buffer {
  const key = rng.bytes(16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

export const HOSTILE_NAMES = [
  '../../../../etc/passwd',
  '/etc/shadow',
  '..\\..\\windows\\system32\\x.dll',
  'a/../../b.txt',
  '..',
  '.',
  '/',
  '\\',
  'CON',
  'nul.txt',
  'com1',
  '\u0000evil',
  'line\nbreak\r.txt',
  '\ud800\udfff\ud800.bin',
  '\udc00lone',
  '..%2f..%2fx',
  'ok.txt',
  '‮txt.exe',
  'x'.repeat(1024),
  'é'.repeat(500),
  '.hidden',
  'trailing...',
  ' ',
  '😀.png',
  'a:b*c?d"e<f>g|h',
];
/** Names that clean to nothing: refused at put_file, so the data frames that follow end the session. */
export const UNUSABLE_NAMES = new Set(['..', '.', '/', '\\', ' ']);

export function randomDict(rng: Rng, depth = 1): Dict {
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

/** A valid dictionary padded to about `bytes` once encoded, and never over `max`. */
export function paddedDict(rng: Rng, format: 'json' | 'xml' | 'protobuf', bytes: number, max: number): Buffer {
  const base = randomDict(rng);
  let pad = bytes;
  for (;;) {
    const body = Buffer.from(encodeDict({ ...base, pad: 'p'.repeat(Math.max(0, pad)) }, format));
    if (body.length <= max) return body;
    pad -= body.length - max;
  }
}

/** Dictionary bodies that must be refused (or, for a few, may pass): each one a known attack or malformation. */
export function hostileDictBody(rng: Rng): { format: 'json' | 'xml' | 'protobuf'; body: Buffer; what: string } {
  const deep = rng.int(17, 5000);
  const choices: Array<() => { format: 'json' | 'xml' | 'protobuf'; body: Buffer; what: string }> = [
    () => ({
      format: 'json',
      body: Buffer.from(`${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}`),
      what: `deep json ${deep}`,
    }),
    () => ({
      format: 'json',
      body: Buffer.from(`{"a":${'['.repeat(deep)}${']'.repeat(deep)}}`),
      what: `deep json array ${deep}`,
    }),
    () => ({ format: 'json', body: Buffer.from(`{"a":[${'0,'.repeat(10_000)}0]}`), what: 'wide json array' }),
    () => ({ format: 'json', body: Buffer.from(`[1,2,3]`), what: 'json array root' }),
    () => ({ format: 'json', body: Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), what: 'json BOM' }),
    () => ({
      format: 'json',
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      what: 'json invalid utf-8',
    }),
    () => ({ format: 'json', body: Buffer.from('{"a":1e999}'), what: 'json infinity' }),
    () => ({ format: 'json', body: Buffer.from('{"a":"\\ud800"}'), what: 'json lone surrogate' }),
    () => ({ format: 'json', body: Buffer.from('{"__proto__":{"polluted":1}}'), what: 'json __proto__' }),
    () => ({ format: 'json', body: Buffer.from('{"a":'), what: 'json truncated' }),
    () => ({ format: 'json', body: Buffer.from(`{"${'"'.repeat(3)}`), what: 'json quotes' }),
    () => ({
      format: 'xml',
      body: Buffer.from(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><dict><string key="a">&lol2;</string></dict>',
      ),
      what: 'xml billion laughs',
    }),
    () => ({
      format: 'xml',
      body: Buffer.from(
        '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><dict><string key="a">&xxe;</string></dict>',
      ),
      what: 'xml xxe',
    }),
    () => ({ format: 'xml', body: Buffer.from('<?php system("id") ?><dict/>'), what: 'xml processing instruction' }),
    () => ({
      format: 'xml',
      body: Buffer.from(`${'<dict><dict key="a">'.repeat(deep)}${'</dict></dict>'.repeat(deep)}`),
      what: `deep xml ${deep}`,
    }),
    () => ({ format: 'xml', body: Buffer.from('<dict><string key="a">unclosed</dict>'), what: 'xml malformed' }),
    () => ({ format: 'xml', body: Buffer.from('<dict><number key="a">NaN</number></dict>'), what: 'xml NaN' }),
    () => ({
      format: 'xml',
      body: Buffer.from('<dict xmlns:x="urn:x"><x:evil key="a"/></dict>'),
      what: 'xml unknown element',
    }),
    () => ({
      format: 'xml',
      body: Buffer.concat([
        Buffer.from('<dict><string key="'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('">x</string></dict>'),
      ]),
      what: 'xml invalid utf-8',
    }),
    () => ({ format: 'protobuf', body: seededBytes(rng, rng.int(0, 512)), what: 'garbage protobuf' }),
    () => ({
      format: 'protobuf',
      body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      what: 'protobuf length lie',
    }),
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
    () => ({
      format: rng.pick(['json', 'xml', 'protobuf'] as const),
      body: seededBytes(rng, rng.int(1, 2048)),
      what: 'random bytes as a dictionary',
    }),
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

export const ctl = (m: object): Buffer => encodeControlFrame(m);
export const dataFrame = (b: Uint8Array): Buffer => Buffer.concat(encodeFrame(FrameKind.Data, b));

/** A broken hello (or something else first), by name. */
export function brokenHello(rng: Rng): [string, Buffer] {
  return rng.pick<[string, Buffer]>([
    ['hello v2', ctl({ type: 'hello', version: 2 })],
    ['hello v0', ctl({ type: 'hello', version: 0 })],
    ['hello unknown field', ctl({ type: 'hello', version: 1, root: true })],
    [
      'hello huge capabilities',
      ctl({ type: 'hello', version: 1, capabilities: Array.from({ length: 65 }, () => 'c') }),
    ],
    ['hello with a token', ctl({ type: 'hello', version: 1, token: 'nobody-asked' })],
    ['put before hello', ctl({ type: 'put_dict', id: 'early', format: 'json', bytes: 2 })],
    ['data before hello', dataFrame(Buffer.from('{}'))],
    ['random bytes first', seededBytes(rng, rng.int(1, 300))],
    ['huge frame first', encodeFrameHeader(FrameKind.Control, 0xffffffff)],
    ['bad kind first', Buffer.from([0, 0, 0, 0, rng.int(3, 255)])],
    [
      'non-JSON control',
      Buffer.concat([encodeFrameHeader(FrameKind.Control, 4), Buffer.from([0xff, 0xfe, 0x00, 0x7b])]),
    ],
  ]);
}

/** Messages in the wrong order, by name, and whether what they do can be told (a cancel is never answered). */
export function wrongOrder(rng: Rng, id: string): [string, Buffer[], boolean] {
  return rng.pick<[string, Buffer[], boolean]>([
    ['file_end without put', [ctl({ type: 'file_end', id, bytes: 0, sha256: sha256(Buffer.alloc(0)) })], false],
    ['stray data', [dataFrame(seededBytes(rng, rng.int(0, 100)))], false],
    ['second hello', [ctl({ type: 'hello', version: 1 })], false],
    ['cancel nothing', [ctl({ type: 'cancel', id })], true],
    [
      'put during put',
      [ctl({ type: 'put_file', id, name: 'a' }), ctl({ type: 'put_dict', id: `${id}x`, format: 'json', bytes: 2 })],
      false,
    ],
    [
      'file_end for another id',
      [
        ctl({ type: 'put_file', id, name: 'a' }),
        ctl({ type: 'file_end', id: `${id}x`, bytes: 0, sha256: sha256(Buffer.alloc(0)) }),
      ],
      false,
    ],
    [
      'cancel mid-file',
      [ctl({ type: 'put_file', id, name: 'a' }), dataFrame(seededBytes(rng, 1000)), ctl({ type: 'cancel', id })],
      true,
    ],
    ['welcome from a client', [ctl({ type: 'welcome', version: 1 })], false],
  ]);
}

/** A control frame whose envelope is broken, by name. */
export function brokenEnvelope(rng: Rng): [string, Buffer] {
  return rng.pick<[string, Buffer]>([
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
    [
      'invalid UTF-8 JSON',
      Buffer.concat([
        encodeFrameHeader(FrameKind.Control, 12),
        Buffer.from('{"type":"\xff"}', 'latin1').subarray(0, 12),
      ]),
    ],
    [
      'deep JSON envelope',
      (() => {
        const t = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
        return Buffer.concat([encodeFrameHeader(FrameKind.Control, t.length), Buffer.from(t)]);
      })(),
    ],
    ['huge dict declared', ctl({ type: 'put_dict', id: 'x', format: 'json', bytes: 2 ** 40 })],
  ]);
}

/** Bytes that lie about framing, by name. */
export function framingLie(rng: Rng): [string, Buffer] {
  return rng.pick<[string, Buffer]>([
    [
      'huge frame',
      encodeFrameHeader(rng.pick([FrameKind.Control, FrameKind.Data]), rng.int(64 * 1024 + 1, 0xffffffff)),
    ],
    ['bad kind', Buffer.concat([Buffer.from([0, 0, 0, 1, rng.pick([0, 3, 0x7f, 0xff])]), Buffer.from([0])])],
    ['short frame', Buffer.concat([encodeFrameHeader(FrameKind.Control, 100), Buffer.from('{"type":"ping"}')])],
    ['random bytes', seededBytes(rng, rng.int(1, 4000))],
    ['empty control', encodeFrameHeader(FrameKind.Control, 0)],
  ]);
}
