/**
 * The client-mode checker on hand-written histories: a conforming dictionary and file put find nothing, and
 * each rule it holds a client to finds its break.
 */
import { createHash } from 'node:crypto';
import { checkClientFrames } from '../src/client/frame-checker';
import type { LogEntry } from '../src/client/scripted-server';

const json = (m: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify(m));
const cin = (message: Record<string, unknown>): LogEntry => ({
  dir: 'in',
  frame: { kind: 1, bytes: json(message), message: message as never },
});
const din = (payload: string): LogEntry => ({ dir: 'in', frame: { kind: 2, payload: Buffer.from(payload) } });
const out = (message: Record<string, unknown>): LogEntry => ({ dir: 'out', message });
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

const hello = cin({ type: 'hello', version: 1 });
const welcome = out({ type: 'welcome', limits: { maxFrameBytes: 4 } });

test('a conforming dictionary put and file put', () => {
  expect(
    checkClientFrames([
      hello,
      welcome,
      cin({ type: 'put_dict', id: 'd', format: 'json', bytes: 7 }),
      din('{"a"'),
      cin({ type: 'ping' }),
      din(':1}'),
      cin({ type: 'put_file', id: 'f', name: 'n', size: 6 }),
      out({ type: 'ready', id: 'f', offset: 0 }),
      din('abcd'),
      din('ef'),
      cin({ type: 'file_end', id: 'f', bytes: 6, sha256: sha('abcdef') }),
      cin({ type: 'bye' }),
    ]),
  ).toEqual([]);
});

test.each<[string, LogEntry[], RegExp]>([
  ['a data frame first', [din('x')], /first frame must be a hello/],
  ['a put before the hello', [cin({ type: 'ping' })], /first frame must be a hello/],
  ['a second hello', [hello, welcome, hello], /a second hello/],
  [
    'an envelope that is not one',
    [hello, { dir: 'in', frame: { kind: 1, bytes: json({ type: 'x' }), error: 'bad' } }],
    /not a client envelope/,
  ],
  [
    'a data frame over maxFrameBytes',
    [hello, welcome, cin({ type: 'put_dict', id: 'd', format: 'json', bytes: 5 }), din('12345')],
    /over the welcome's maxFrameBytes/,
  ],
  [
    'a body past put_dict.bytes',
    [hello, cin({ type: 'put_dict', id: 'd', format: 'json', bytes: 2 }), din('123')],
    /past put_dict.bytes/,
  ],
  [
    'a bye inside a body',
    [hello, cin({ type: 'put_dict', id: 'd', format: 'json', bytes: 9 }), din('1'), cin({ type: 'bye' })],
    /only ping is allowed/,
  ],
  ['data before ready', [hello, cin({ type: 'put_file', id: 'f', name: 'n' }), din('ab')], /before the server's ready/],
  [
    'file_end with the wrong count',
    [
      hello,
      cin({ type: 'put_file', id: 'f', name: 'n' }),
      out({ type: 'ready', id: 'f', offset: 0 }),
      din('ab'),
      cin({ type: 'file_end', id: 'f', bytes: 3, sha256: sha('ab') }),
    ],
    /says 3 bytes, the client sent 2/,
  ],
  [
    'file_end with the wrong SHA-256',
    [
      hello,
      cin({ type: 'put_file', id: 'f', name: 'n' }),
      out({ type: 'ready', id: 'f', offset: 0 }),
      din('ab'),
      cin({ type: 'file_end', id: 'f', bytes: 2, sha256: sha('x') }),
    ],
    /SHA-256/,
  ],
  [
    'a size other than the data',
    [
      hello,
      cin({ type: 'put_file', id: 'f', name: 'n', size: 5 }),
      out({ type: 'ready', id: 'f', offset: 0 }),
      din('ab'),
      cin({ type: 'file_end', id: 'f', bytes: 2, sha256: sha('ab') }),
    ],
    /declared size 5/,
  ],
  [
    'file_end after a duplicate receipt',
    [
      hello,
      cin({ type: 'put_file', id: 'f', name: 'n' }),
      out({ type: 'receipt', id: 'f', duplicate: true }),
      cin({ type: 'file_end', id: 'f', bytes: 0, sha256: sha('') }),
    ],
    /already answered/,
  ],
  [
    'data after a cancel',
    [
      hello,
      cin({ type: 'put_file', id: 'f', name: 'n' }),
      out({ type: 'ready', id: 'f', offset: 0 }),
      cin({ type: 'cancel', id: 'f' }),
      din('ab'),
    ],
    /no put in progress/,
  ],
  [
    'a control frame over 64 KiB',
    [
      {
        dir: 'in',
        frame: { kind: 1, bytes: Buffer.alloc(65537, 0x20), message: { type: 'hello', version: 1 } as never },
      },
    ],
    /over 64 KiB/,
  ],
])('%s is found', (_name, log, problem) => {
  expect(checkClientFrames(log)).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
});

test('after a server error mid-file, a file_end in flight is not held against the client', () => {
  expect(
    checkClientFrames([
      hello,
      cin({ type: 'put_file', id: 'f', name: 'n' }),
      out({ type: 'ready', id: 'f', offset: 0 }),
      din('ab'),
      out({ type: 'error', code: 'ERR_STORAGE', id: 'f', fatal: false }),
      din('cd'),
      cin({ type: 'file_end', id: 'f', bytes: 4, sha256: sha('abcd') }),
    ]),
  ).toEqual([]);
});
