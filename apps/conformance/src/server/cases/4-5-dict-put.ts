/**
 * docs/PROTOCOL.md §4, "Dictionary put": put_dict and its body without waiting, in any number of frames, the
 * fatal errors (too large, a body past `bytes`), the non-fatal ones after which the session goes on, and nothing
 * stored when the connection closes inside the body. What may come inside the body is checked in part 4.11
 * ("What may come when"), a stored id in part 4.10 ("Idempotency").
 */
import type { Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError } from '../expect';
import { jsonDict, pingPong, putDict, refusedDict, storedNow, withSession } from '../steps';

const BODY =
  'The client sends `put_dict` and, without waiting, data frames whose payloads add up to exactly `bytes` (any number of frames, empty ones included).';

export const dictPut: Section<ServerContext> = {
  id: '4.5',
  title: 'Dictionary put',
  cases: [
    {
      id: '4.5.1',
      title: 'put_dict and its body in one data frame: the receipt',
      spec: BODY,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await putDict(conn, ctx, { id: ctx.ids.next('dict'), format: 'json', body: jsonDict('one frame') });
        }),
    },
    {
      id: '4.5.2',
      title: 'the body in many small data frames (1, 2, 3 … bytes): the receipt',
      spec: BODY,
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
      id: '4.5.3',
      title: 'put_dict over maxDictBytes is ERR_DICT_TOO_LARGE (fatal), before any data',
      spec: 'at `put_dict`, refuses a `bytes` over `maxDictBytes` with `ERR_DICT_TOO_LARGE`, fatal: it will not hold such a body and cannot skip it without reading it',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const bytes = ctx.welcome.limits.maxDictBytes + 1;
          await conn.send({ type: 'put_dict', id: ctx.ids.next('large'), format: 'json', bytes });
          await expectError(conn, ctx, 'ERR_DICT_TOO_LARGE', { fatal: true });
        }),
    },
    {
      id: '4.5.4',
      title: 'a data frame that takes the body past bytes is ERR_SIZE_MISMATCH (fatal)',
      spec: 'reads the body; a data frame that would take it past `bytes` is `ERR_SIZE_MISMATCH`, fatal: the stream is out of step',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const body = jsonDict('past bytes');
          await conn.send({ type: 'put_dict', id: ctx.ids.next('past'), format: 'json', bytes: body.length - 1 });
          await conn.sendData(body);
          await expectError(conn, ctx, 'ERR_SIZE_MISMATCH', { fatal: true });
        }),
    },
    {
      id: '4.5.5',
      title: 'a body that does not decode is ERR_DECODE for its id, and the session goes on',
      spec: "else decodes the body in `format` (section 5) and validates it (`ERR_DECODE`, … These errors carry the put's `id` and are not fatal: the connection goes on.",
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
      id: '4.5.6',
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
