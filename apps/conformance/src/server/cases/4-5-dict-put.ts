/**
 * docs/PROTOCOL.md §4, "Dictionary put": put_dict and its body without waiting, pings inside the body and nothing
 * else, the fatal errors (too large, a body past `bytes`), the non-fatal ones after which the session goes on, and
 * idempotency: a put id stored before gets the first receipt again, `duplicate: true`, and nothing new is stored.
 */
import { encodeControlFrame, encodeFrameHeader, FrameKind } from '@proj/protocol/wire';
import { check, show, type Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError, expectMessage, expectReceipt } from '../expect';
import { jsonDict, pingPong, putDict, refusedDict, sendDict, storedNow, withSession } from '../steps';

const IDEMPOTENT =
  'If the id was stored before, the server answers the first receipt with `duplicate: true` and stores nothing.';

export const dictPut: Section<ServerContext> = {
  id: '4.3',
  title: 'Dictionary put',
  cases: [
    {
      id: '4.3.1',
      title: 'put_dict and its body in one data frame: the receipt',
      spec: 'The client sends `put_dict` and, without waiting, data frames whose payloads add up to exactly `bytes`.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await putDict(conn, ctx, { id: ctx.ids.next('dict'), format: 'json', body: jsonDict('one frame') });
        }),
    },
    {
      id: '4.3.2',
      title: 'the body in many small data frames (1, 2, 3 … bytes): the receipt',
      spec: 'The client sends `put_dict` and, without waiting, data frames whose payloads add up to exactly `bytes`.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const body = jsonDict('many frames', { padding: 'p'.repeat(100) });
          await putDict(conn, ctx, {
            id: ctx.ids.next('dict'),
            format: 'json',
            body,
            pieces: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
          });
        }),
    },
    {
      id: '4.3.3',
      title: 'a ping inside the body is answered, and the put goes on',
      spec: 'While the body is incomplete, the only control message allowed is `ping`',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('dict');
          const body = jsonDict('ping inside');
          await conn.send({ type: 'put_dict', id, format: 'json', bytes: body.length });
          await conn.sendData(body.subarray(0, 4));
          await pingPong(conn, ctx, 'inside the body');
          await conn.sendData(body.subarray(4));
          await expectReceipt(conn, ctx, { id, kind: 'dict', body, format: 'json', duplicate: false });
        }),
    },
    ...(['put_file', 'bye', 'cancel'] as const).map((type, i) => ({
      id: `4.3.${4 + i}`,
      title: `a ${type} inside the body is ERR_UNEXPECTED_MESSAGE (fatal)`,
      spec: 'While the body is incomplete, the only control message allowed is `ping`; anything else is `ERR_UNEXPECTED_MESSAGE` (fatal).',
      run: (ctx: ServerContext) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('dict');
          const body = jsonDict('interrupted');
          await conn.send({ type: 'put_dict', id, format: 'json', bytes: body.length });
          await conn.sendData(body.subarray(0, 4));
          const messages = {
            put_file: { type: 'put_file', id: ctx.ids.next('file'), name: 'x.txt' },
            bye: { type: 'bye' },
            cancel: { type: 'cancel', id },
          };
          await conn.send(messages[type]);
          await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
        }),
    })),
    {
      id: '4.3.7',
      title: 'put_dict over maxDictBytes is ERR_DICT_TOO_LARGE (fatal), before any data',
      spec: 'When `bytes` exceeds `maxDictBytes` the server answers `ERR_DICT_TOO_LARGE` as a fatal error',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const bytes = ctx.welcome.limits.maxDictBytes + 1;
          await conn.send({ type: 'put_dict', id: ctx.ids.next('large'), format: 'json', bytes });
          await expectError(conn, ctx, 'ERR_DICT_TOO_LARGE', { fatal: true });
        }),
    },
    {
      id: '4.3.8',
      title: 'a data frame that takes the body past bytes is ERR_SIZE_MISMATCH (fatal)',
      spec: 'A data frame that would take the body past `bytes` is `ERR_SIZE_MISMATCH`, fatal: the stream is out of step.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const body = jsonDict('past bytes');
          await conn.send({ type: 'put_dict', id: ctx.ids.next('past'), format: 'json', bytes: body.length - 1 });
          await conn.sendData(body);
          await expectError(conn, ctx, 'ERR_SIZE_MISMATCH', { fatal: true });
        }),
    },
    {
      id: '4.3.9',
      title: 'a body that does not decode is ERR_DECODE for its id, and the session goes on',
      spec: "or an error with the put's `id` (`ERR_DECODE`, `ERR_DICT_INVALID`, `ERR_DICT_TOO_DEEP`, `ERR_XML_FORBIDDEN`, …), after which the connection goes on.",
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await refusedDict(
            conn,
            ctx,
            { id: ctx.ids.next('bad'), format: 'json', body: Buffer.from('{"a":') },
            'ERR_DECODE',
          );
          await pingPong(conn, ctx, 'after ERR_DECODE');
          await putDict(conn, ctx, { id: ctx.ids.next('after'), format: 'json', body: jsonDict('after an error') });
        }),
    },
    {
      id: '4.3.10',
      title: 'a put id stored before gets the first receipt again, duplicate: true',
      spec: IDEMPOTENT,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const p = { id: ctx.ids.next('twice'), format: 'json' as const, body: jsonDict('twice') };
          const first = await putDict(conn, ctx, p);
          await putDict(conn, ctx, p, true, first);
        }),
    },
    {
      id: '4.3.11',
      title: 'a retry on a new connection gets the first receipt again, duplicate: true',
      spec: 'a put repeated with the same id (a retry after a lost connection) gets the first receipt again, with `duplicate: true`, and nothing new is stored.',
      run: async (ctx) => {
        const p = { id: ctx.ids.next('retry'), format: 'json' as const, body: jsonDict('retry') };
        const first = await withSession(ctx, (conn) => putDict(conn, ctx, p));
        await withSession(ctx, (conn) => putDict(conn, ctx, p, true, first));
      },
    },
    {
      id: '4.3.12',
      title: 'a stored id sent again with another body gets the first receipt (which does not match the new body)',
      spec: IDEMPOTENT,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('other-body');
          const first = await putDict(conn, ctx, { id, format: 'json', body: jsonDict('first body') });
          const other = jsonDict('another body, longer than the first');
          await sendDict(conn, ctx, { id, format: 'json', body: other });
          const again = await expectMessage(conn, ctx, 'receipt');
          check(
            again.duplicate &&
              again.sha256 === first.sha256 &&
              again.path === first.path &&
              again.bytes === first.bytes,
            () => `expected the first receipt again, got ${show(again)}`,
          );
        }),
    },
    {
      id: '4.3.13',
      title: 'two puts written back to back are answered in order',
      spec: 'Each put is answered by exactly one `receipt` or one `error`. Puts on one connection are sequential.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const a = { id: ctx.ids.next('first'), body: jsonDict('first of two') };
          const b = { id: ctx.ids.next('second'), body: jsonDict('second of two') };
          const frame = (p: typeof a) => [
            encodeControlFrame({ type: 'put_dict', id: p.id, format: 'json', bytes: p.body.length }),
            encodeFrameHeader(FrameKind.Data, p.body.length),
            p.body,
          ];
          await conn.write(Buffer.concat([...frame(a), ...frame(b)]));
          for (const p of [a, b])
            await expectReceipt(conn, ctx, { ...p, kind: 'dict', format: 'json', duplicate: false });
        }),
    },
    {
      id: '4.3.14',
      title: 'a connection closed in the middle of the body leaves nothing stored',
      spec: 'A connection that closes during a put leaves nothing stored.',
      run: async (ctx) => {
        const id = ctx.ids.next('cut');
        const body = jsonDict('cut short');
        await withSession(ctx, async (conn) => {
          await conn.send({ type: 'put_dict', id, format: 'json', bytes: body.length });
          await conn.sendData(body.subarray(0, 5));
          await pingPong(conn, ctx, 'before the close');
        });
        await storedNow(ctx, id, body);
      },
    },
  ],
};
