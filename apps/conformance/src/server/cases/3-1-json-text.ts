/**
 * docs/PROTOCOL.md §3 Envelopes, the rules of its head on how a receiver reads envelope text, as a server applies
 * them to what a client sends (numbered on in part 3.1, "Client to server"): an *int* judged by its value, not
 * its spelling; string lengths counted in code points; the byte form (any JSON text: spacing, member order,
 * escapes, a member given twice; nothing after the object).
 */
import { check, show, type Case } from '../../case';
import type { ServerContext } from '../context';
import { expectMessage, expectReceipt, sha256Hex } from '../expect';
import { hello, withConnection, withSession } from '../steps';
import { bad, helloJson } from './bad-message';

const NOT_INTS =
  '`7`, `7.0`, `7e0` and `0.7e1` are all 7 and `-0` is 0, while `7.5`, `-1`, `1e400` (no finite double) and `9007199254740993` (read as 2^53) are not ints';
const CODE_POINTS = 'String lengths (`≤ 128`, `1..4096`) count Unicode code points';
const BYTE_FORM =
  'A receiver accepts any JSON text (RFC 8259) in UTF-8 whose value is an envelope: whitespace wherever JSON allows it, members in any order, any character written as an escape (`"js\\u006fn"` is `"json"`), ints spelled as above.';

/** A put_dict whose `bytes` is written as `spelling` (JSON text no serializer writes). */
const putDictBytesJson = (spelling: string) => (ctx: ServerContext) =>
  `{"type":"put_dict","id":"${ctx.ids.next('env')}","format":"json","bytes":${spelling}}`;

/** A dictionary of exactly 20 bytes, for `bytes` written in other spellings of 20. */
const TWENTY = Buffer.from('{"n":"0123456789ab"}');

const emoji = (n: number): string => '\u{1F600}'.repeat(n);

export const jsonText: Case<ServerContext>[] = [
  {
    id: '3.1.41',
    title: 'put_dict bytes written 0.2e2 and 20.0 are 20: the receipts of 20-byte bodies',
    spec: NOT_INTS,
    run: (ctx) =>
      withSession(ctx, async (conn) => {
        for (const spelling of ['0.2e2', '20.0']) {
          const id = ctx.ids.next('spelled');
          await conn.sendJson(`{"type":"put_dict","id":"${id}","format":"json","bytes":${spelling}}`);
          await conn.sendData(TWENTY);
          await expectReceipt(conn, ctx, { id, kind: 'dict', body: TWENTY, format: 'json', duplicate: false });
        }
      }),
  },
  {
    id: '3.1.42',
    title: 'put_file offset written -0 and size 3e0: ready at offset 0, and the receipt',
    spec: NOT_INTS,
    run: (ctx) =>
      withSession(ctx, async (conn) => {
        const id = ctx.ids.next('spelled-file');
        const body = Buffer.from('abc');
        await conn.sendJson(`{"type":"put_file","id":"${id}","name":"spelled.txt","size":3e0,"offset":-0}`);
        const ready = await expectMessage(conn, ctx, 'ready');
        check(Object.is(ready.offset, 0), () => `expected ready at offset 0, got ${show(ready)}`);
        await conn.sendData(body);
        await conn.sendJson(`{"type":"file_end","id":"${id}","bytes":3.0,"sha256":"${sha256Hex(body)}"}`);
        await expectReceipt(conn, ctx, { id, kind: 'file', body, duplicate: false });
      }),
  },
  bad({ id: '3.1.43', title: 'put_dict bytes 1e400', spec: NOT_INTS, json: putDictBytesJson('1e400') }),
  bad({
    id: '3.1.44',
    title: 'put_dict bytes 9007199254740993 (read as 2^53)',
    spec: NOT_INTS,
    json: putDictBytesJson('9007199254740993'),
  }),
  {
    id: '3.1.45',
    title: 'an agent of 128 emoji (256 UTF-16 units) is welcomed',
    spec: `${CODE_POINTS}: \`é\` counts 1, and so does an emoji`,
    run: (ctx) =>
      withConnection(ctx, async (conn) => {
        await conn.send(hello(ctx, { agent: emoji(128) }));
        await expectMessage(conn, ctx, 'welcome');
      }),
  },
  bad({
    id: '3.1.46',
    title: 'an agent of 129 emoji',
    spec: `${CODE_POINTS}: \`é\` counts 1, and so does an emoji`,
    asHello: true,
    json: helloJson({ agent: emoji(129) }),
  }),
  {
    id: '3.1.47',
    title: 'a ping nonce of 64 lone surrogates written \\ud800 is answered with the same nonce',
    spec: 'A JSON escape may also make a lone surrogate (`"\\ud800"`); envelopes do not refuse it, and it counts 1.',
    run: (ctx) =>
      withSession(ctx, async (conn) => {
        await conn.sendJson(`{"type":"ping","nonce":"${'\\ud800'.repeat(64)}"}`);
        const pong = await expectMessage(conn, ctx, 'pong');
        check(pong.nonce === '\ud800'.repeat(64), () => `expected the 64 surrogates back, got ${show(pong)}`);
      }),
  },
  {
    id: '3.1.48',
    title: 'a put_dict spaced out, its members reversed and its format written "js\\u006fn": the receipt',
    spec: BYTE_FORM,
    run: (ctx) =>
      withSession(ctx, async (conn) => {
        const id = ctx.ids.next('byte-form');
        await conn.sendJson(`\r\n { "bytes" : 20 ,\n\t"format":"js\\u006fn" , "id" : "${id}", "type":"put_dict" } \n`);
        await conn.sendData(TWENTY);
        await expectReceipt(conn, ctx, { id, kind: 'dict', body: TWENTY, format: 'json', duplicate: false });
      }),
  },
  {
    id: '3.1.49',
    title: 'a ping whose nonce is given twice is answered with the last value',
    spec: 'A member given twice takes its last value (as `JSON.parse` does)',
    run: (ctx) =>
      withSession(ctx, async (conn) => {
        await conn.sendJson('{"type":"ping","nonce":"first","nonce":"last"}');
        const pong = await expectMessage(conn, ctx, 'pong');
        check(pong.nonce === 'last', () => `expected the nonce "last", got ${show(pong)}`);
      }),
  },
  bad({
    id: '3.1.50',
    title: 'a ping followed by a second object in the same payload',
    spec: 'A byte order mark, invalid UTF-8, a value that is not an object, or anything after the object is `ERR_BAD_MESSAGE`.',
    json: () => '{"type":"ping"}{"type":"ping"}',
  }),
  bad({
    id: '3.1.51',
    title: 'a JSON string instead of an object',
    spec: 'A byte order mark, invalid UTF-8, a value that is not an object, or anything after the object is `ERR_BAD_MESSAGE`.',
    json: () => '"ping"',
  }),
];
