/**
 * What a receiver accepts in a control frame (docs/PROTOCOL.md §3): any JSON text whose value is an envelope,
 * whatever its spacing, member order and escapes; ints judged by value (`7.0` is 7); string bounds counted in
 * code points. Each envelope is written as raw bytes, so nothing on the way re-encodes it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeFrameHeader, FrameKind } from '@proj/protocol/wire';
import { sha256Hex } from '@proj/test-utils';
import { RawClient, startTestServer, type TestServer } from './helpers';

/** A control frame holding exactly `json`, as UTF-8 (or `bytes` as given). */
function control(json: string | Buffer): Buffer {
  const payload = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  return Buffer.concat([encodeFrameHeader(FrameKind.Control, payload.length), payload]);
}

const BODY = Buffer.from('{"a":1}');

describe('the byte form of envelopes (docs/PROTOCOL.md §3)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ output: 'file' });
  });
  afterAll(async () => {
    await t.stop();
  });

  /** Sends `json` after a handshake; returns the next answer. */
  async function answer(json: string | Buffer, body?: Buffer): Promise<Record<string, unknown> | undefined> {
    const c = await RawClient.welcomed(t.server.port);
    c.raw(control(json));
    if (body) c.data(body);
    const m = await c.next();
    c.destroy();
    return m as Record<string, unknown> | undefined;
  }

  const BAD = { type: 'error', code: 'ERR_BAD_MESSAGE', fatal: true };

  describe('ints are judged by value, read as the nearest double', () => {
    it.each([
      ['7', 'i1'],
      ['7.0', 'i2'],
      ['7e0', 'i3'],
      ['0.7e1', 'i4'],
      ['700E-2', 'i5'],
    ])('bytes: %s is 7', async (n, id) => {
      const m = await answer(`{"type":"put_dict","id":"${id}","format":"json","bytes":${n}}`, BODY);
      expect(m).toMatchObject({ type: 'receipt', id, bytes: 7 });
    });

    it('-0 is 0', async () => {
      const m = await answer('{"type":"put_dict","id":"z1","format":"json","bytes":-0}');
      expect(m).toMatchObject({ type: 'error', code: 'ERR_DECODE', id: 'z1', fatal: false }); // an empty body
    });

    it('version 1.0 is version 1', async () => {
      const c = await RawClient.connect(t.server.port);
      c.raw(control('{"type":"hello","version":1.0}'));
      expect(await c.next()).toMatchObject({ type: 'welcome', version: 1 });
      c.destroy();
    });

    it.each(['7.5', '-1', '1e400', '9007199254740993', '"7"', 'true'])('bytes: %s is not an int', async (n) => {
      expect(await answer(`{"type":"put_dict","id":"x","format":"json","bytes":${n}}`)).toMatchObject(BAD);
    });
  });

  describe('string bounds count code points (a lone surrogate counts one)', () => {
    const emoji = '\u{1F600}'; // one code point, two UTF-16 code units, four UTF-8 bytes
    it.each([
      ['64 ASCII', 'n'.repeat(64), true],
      ['64 é (128 UTF-8 bytes)', 'é'.repeat(64), true],
      ['64 emoji (128 UTF-16 code units, 256 UTF-8 bytes)', emoji.repeat(64), true],
      ['64 lone surrogates', '\ud800'.repeat(64), true],
      ['65 ASCII', 'n'.repeat(65), false],
      ['65 emoji', emoji.repeat(65), false],
      ['65 lone surrogates', '\udc00'.repeat(65), false],
    ])('a ping nonce of %s', async (_what, nonce, ok) => {
      const m = await answer(JSON.stringify({ type: 'ping', nonce }));
      expect(m).toEqual(ok ? { type: 'pong', nonce } : expect.objectContaining(BAD));
    });

    it('a file name of 1024 emoji is within its bound; 1025 are not', async () => {
      const c = await RawClient.welcomed(t.server.port);
      c.raw(control(JSON.stringify({ type: 'put_file', id: 'u1', name: emoji.repeat(1024) })));
      // Accepted as an envelope; the name cleans to nothing usable (no letter or digit), a refusal of the put.
      expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_NAME_INVALID', id: 'u1', fatal: false });
      c.raw(control(JSON.stringify({ type: 'put_file', id: 'u2', name: emoji.repeat(1025) })));
      expect(await c.next()).toMatchObject(BAD);
      c.destroy();
    });
  });

  describe('any JSON text of the envelope is accepted', () => {
    it('whitespace, members in any order, escapes', async () => {
      const json = ' {\n\t"bytes" : 7 ,"format":"js\\u006fn",\r\n "id":"w\\u0031", "type" : "put_dict" } \n';
      expect(await answer(json, BODY)).toMatchObject({ type: 'receipt', id: 'w1', format: 'json' });
    });

    it('a member given twice takes its last value', async () => {
      expect(await answer('{"type":"ping","nonce":"first","nonce":"last"}')).toEqual({ type: 'pong', nonce: 'last' });
      expect(await answer('{"type":"bye","type":"ping"}')).toEqual({ type: 'pong' });
    });

    it.each([
      ['a BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"type":"ping"}')])],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
      ['an array', '[{"type":"ping"}]'],
      ['a string', '"ping"'],
      ['null for an optional field', '{"type":"ping","nonce":null}'],
      ['an unknown field', '{"type":"ping","extra":1}'],
      ['a field in another letter case', '{"type":"ping","Nonce":"x"}'],
      ['two JSON texts', '{"type":"ping"}{"type":"ping"}'],
    ])('but not %s', async (_what, json) => {
      expect(await answer(json)).toMatchObject(BAD);
    });
  });

  it.each(['binary', 'PROTOBUF', 'Json', 'yaml'])(
    'the wire knows json, xml and protobuf only: format %j is ERR_BAD_MESSAGE (docs/PROTOCOL.md §5.2)',
    async (format) => {
      expect(await answer(JSON.stringify({ type: 'put_dict', id: 'fmt', format, bytes: 2 }))).toMatchObject(BAD);
    },
  );

  it('a dictionary in JSON is stored as the bytes sent: 2.0 stays 2.0 (docs/PROTOCOL.md §5.3)', async () => {
    const body = Buffer.from('{ "n" : 2.0, "m": 1E2 }');
    const m = (await answer(`{"type":"put_dict","id":"j1","format":"json","bytes":${body.length}}`, body)) as {
      path: string;
      sha256: string;
    };
    expect(m).toMatchObject({ type: 'receipt', id: 'j1', sha256: sha256Hex(body) });
    expect(await readFile(join(t.dataDir, m.path))).toEqual(body);
  });
});
