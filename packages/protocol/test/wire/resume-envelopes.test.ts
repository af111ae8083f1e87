/**
 * The fields the `resume` capability adds (docs/PROTOCOL.md §3, §4 "Resuming"): `put_file.resume` and
 * `ready.sha256`, allowed only on a connection that negotiated `resume`, refused like any unknown field elsewhere.
 */
import { codeOf } from '@proj/test-utils';
import { RESUME_CAPABILITY } from '../../src/wire/capabilities';
import { parseClientMessage, parseServerMessage } from '../../src/wire/envelopes';

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const resume = { capabilities: new Set([RESUME_CAPABILITY]) };
const other = { capabilities: new Set(['x-other']) };
const sha = 'ab'.repeat(32);

describe('put_file.resume', () => {
  const put = { type: 'put_file', id: 'a', name: 'x.txt', resume: true };

  test('is read on a connection that negotiated resume', () => {
    expect(parseClientMessage(json(put), resume)).toEqual({ ...put, offset: 0, encryption: 'none' });
    expect(parseClientMessage(json({ ...put, resume: false }), resume)).toMatchObject({ resume: false });
    expect(parseClientMessage(json({ type: 'put_file', id: 'a', name: 'x' }), resume)).not.toHaveProperty('resume');
  });

  test('is an unknown field on any other connection', () => {
    expect(codeOf(() => parseClientMessage(json(put)))).toBe('ERR_BAD_MESSAGE');
    expect(codeOf(() => parseClientMessage(json(put), other))).toBe('ERR_BAD_MESSAGE');
  });

  test.each([
    ['a string', 'yes'],
    ['a number', 1],
    ['null', null],
  ])('%s is not a boolean', (_name, value) => {
    expect(codeOf(() => parseClientMessage(json({ ...put, resume: value }), resume))).toBe('ERR_BAD_MESSAGE');
  });
});

describe('ready.sha256', () => {
  const ready = { type: 'ready', id: 'a', offset: 5, sha256: sha };

  test('is read on a connection that negotiated resume', () => {
    expect(parseServerMessage(json(ready), resume)).toEqual(ready);
    expect(parseServerMessage(json({ type: 'ready', id: 'a', offset: 0 }), resume)).toEqual({
      type: 'ready',
      id: 'a',
      offset: 0,
    });
  });

  test('is refused by a strict client that did not negotiate it, and dropped by a tolerant one', () => {
    expect(codeOf(() => parseServerMessage(json(ready)))).toBe('ERR_BAD_MESSAGE');
    expect(parseServerMessage(json(ready), { ignoreUnknownFields: true })).toEqual({
      type: 'ready',
      id: 'a',
      offset: 5,
    });
  });

  test('keeps the sha256 rule', () => {
    expect(codeOf(() => parseServerMessage(json({ ...ready, sha256: 'AB'.repeat(32) }), resume))).toBe(
      'ERR_BAD_MESSAGE',
    );
    expect(
      codeOf(() => parseServerMessage(json({ ...ready, sha256: 'ab' }), { ...resume, ignoreUnknownFields: true })),
    ).toBe('ERR_BAD_MESSAGE');
  });
});
