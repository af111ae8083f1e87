/**
 * docs/PROTOCOL.md §4, "Half-close": a client that shuts down its sending side still gets an answer to every
 * frame that arrived, then the server closes; a put left incomplete is not stored nor answered; a stream ending
 * inside a frame is ERR_FRAME_TRUNCATED.
 */
import { encodeControlFrame, encodeFrameHeader, FrameKind } from '@proj/protocol/wire';
import type { Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError, expectMessage, expectReceipt } from '../expect';
import { hello, jsonDict, storedNow, withConnection } from '../steps';

export const halfClose: Section<ServerContext> = {
  id: '4.15',
  title: 'Half-close',
  cases: [
    {
      id: '4.15.1',
      title: 'hello, a dictionary put and a ping, then a half-close: welcome, receipt, pong, then the close',
      spec: 'The server handles and answers every frame that arrived (one receipt or error per complete put, `bye` for a `bye`), then closes.',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          const id = ctx.ids.next('half');
          const body = jsonDict('half-close');
          await conn.write(
            Buffer.concat([
              encodeControlFrame(hello(ctx)),
              encodeControlFrame({ type: 'put_dict', id, format: 'json', bytes: body.length }),
              encodeFrameHeader(FrameKind.Data, body.length),
              body,
              encodeControlFrame({ type: 'ping', nonce: 'last' }),
            ]),
          );
          await conn.endInput();
          await expectMessage(conn, ctx, 'welcome');
          await expectReceipt(conn, ctx, { id, kind: 'dict', body, format: 'json', duplicate: false });
          await expectMessage(conn, ctx, 'pong');
          await conn.closed(ctx.target.answerMs, 'the last answer of a half-closed connection');
        }),
    },
    {
      id: '4.15.2',
      title: 'a half-close with a dictionary body incomplete: no answer for the put, the close, nothing stored',
      spec: 'a put whose body or `file_end` never arrived is not stored and not answered.',
      run: async (ctx) => {
        const id = ctx.ids.next('half-put');
        const body = jsonDict('never whole');
        await withConnection(ctx, async (conn) => {
          await conn.write(
            Buffer.concat([
              encodeControlFrame(hello(ctx)),
              encodeControlFrame({ type: 'put_dict', id, format: 'json', bytes: body.length }),
              encodeFrameHeader(FrameKind.Data, 5),
              body.subarray(0, 5),
            ]),
          );
          await conn.endInput();
          await expectMessage(conn, ctx, 'welcome');
          await conn.closed(ctx.target.answerMs, 'a half-close inside a put');
        });
        await storedNow(ctx, id, body);
      },
    },
    {
      id: '4.15.3',
      title: 'a half-close inside a frame is answered with ERR_FRAME_TRUNCATED (fatal)',
      spec: 'A stream that ends inside a frame is answered with `ERR_FRAME_TRUNCATED` (fatal) … the server sends it when the stream ends (a TCP FIN) inside a frame, and only a client that half-closed reads it',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          const ping = encodeControlFrame({ type: 'ping', nonce: 'cut' });
          await conn.write(Buffer.concat([encodeControlFrame(hello(ctx)), ping.subarray(0, 9)]));
          await conn.endInput();
          await expectMessage(conn, ctx, 'welcome');
          await expectError(conn, ctx, 'ERR_FRAME_TRUNCATED', { fatal: true });
        }),
    },
  ],
};
