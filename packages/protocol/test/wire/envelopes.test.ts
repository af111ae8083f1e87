import { parseClientMessage, parseServerMessage } from '../../src/wire/envelopes';
import { codeOf } from '@proj/test-utils';

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

describe('client envelopes', () => {
  test('defaults are filled in', () => {
    expect(parseClientMessage(json({ type: 'hello', version: 1 }))).toEqual({
      type: 'hello',
      version: 1,
      capabilities: [],
    });
    expect(parseClientMessage(json({ type: 'put_file', id: 'a', name: 'x.txt' }))).toEqual({
      type: 'put_file',
      id: 'a',
      name: 'x.txt',
      offset: 0,
      encryption: 'none',
    });
  });

  test.each([
    ['not JSON', Buffer.from('{"type":')],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
    ['JSON that is not an object', json([1, 2])],
    ['an unknown type', json({ type: 'exec', cmd: 'rm -rf /' })],
    ['an unknown field', json({ type: 'bye', extra: 1 })],
    ['a null field', json({ type: 'hello', version: 1, token: null })],
    ['a bad id', json({ type: 'put_dict', id: '../etc', format: 'json', bytes: 1 })],
    ['an id too long', json({ type: 'put_dict', id: 'a'.repeat(129), format: 'json', bytes: 1 })],
    ['a negative size', json({ type: 'put_dict', id: 'a', format: 'json', bytes: -1 })],
    ['a fractional size', json({ type: 'put_dict', id: 'a', format: 'json', bytes: 1.5 })],
    ['a size past 2^53', json({ type: 'put_file', id: 'a', name: 'x', size: 2 ** 60 })],
    ['an unknown format', json({ type: 'put_dict', id: 'a', format: 'pickle', bytes: 1 })],
    ['an uppercase sha256', json({ type: 'file_end', id: 'a', bytes: 1, sha256: 'A'.repeat(64) })],
    ['a server message', json({ type: 'pong' })],
    ['__proto__ pollution', Buffer.from('{"type":"bye","__proto__":{"polluted":1}}')],
  ])('%s is ERR_BAD_MESSAGE', (_label, payload) => {
    expect(codeOf(() => parseClientMessage(payload))).toBe('ERR_BAD_MESSAGE');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('server envelopes', () => {
  test('an error envelope needs a code in the ERR_ form', () => {
    expect(codeOf(() => parseServerMessage(json({ type: 'error', code: 'oops', message: '', fatal: false })))).toBe(
      'ERR_BAD_MESSAGE',
    );
    expect(parseServerMessage(json({ type: 'error', code: 'ERR_X', message: 'm', fatal: true }))).toMatchObject({
      code: 'ERR_X',
    });
  });

  test('a client message is not a server message', () => {
    expect(codeOf(() => parseServerMessage(json({ type: 'hello', version: 1 })))).toBe('ERR_BAD_MESSAGE');
  });
});

test('a byte-order mark before the JSON is ERR_BAD_MESSAGE', () => {
  expect(
    codeOf(() => parseClientMessage(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json({ type: 'bye' })]))),
  ).toBe('ERR_BAD_MESSAGE');
});
