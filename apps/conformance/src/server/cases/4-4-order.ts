/**
 * docs/PROTOCOL.md §4, "Order": frames are handled one at a time in the order they arrive and answered in that
 * order, so a client may write a whole session without waiting and get the answers it would have got waiting.
 */
import { encodeControlFrame, encodeFrameHeader, FrameKind } from '@proj/protocol/wire';
import { check, show, type Section } from '../../case';
import type { ServerContext } from '../context';
import { expectMessage, expectReceipt, sha256Hex } from '../expect';
import { jsonDict, withSession } from '../steps';

const data = (payload: Buffer): Buffer => Buffer.concat([encodeFrameHeader(FrameKind.Data, payload.length), payload]);

export const order: Section<ServerContext> = {
  id: '4.4',
  title: 'Order',
  cases: [
    {
      id: '4.4.1',
      title: 'two dictionary puts written back to back are answered in order',
      spec: 'The server handles frames strictly in the order they arrive, one at a time, and answers in that order.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const a = { id: ctx.ids.next('first'), body: jsonDict('first of two') };
          const b = { id: ctx.ids.next('second'), body: jsonDict('second of two') };
          const frames = (p: typeof a) => [
            encodeControlFrame({ type: 'put_dict', id: p.id, format: 'json', bytes: p.body.length }),
            data(p.body),
          ];
          await conn.write(Buffer.concat([...frames(a), ...frames(b)]));
          for (const p of [a, b])
            await expectReceipt(conn, ctx, { ...p, kind: 'dict', format: 'json', duplicate: false });
        }),
    },
    {
      id: '4.4.2',
      title: 'a dictionary put, a whole file put (data before ready) and a ping in one write: every answer, in order',
      spec: 'A client may therefore send without waiting for answers, and everything is handled as if it had waited',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const dict = { id: ctx.ids.next('pipelined'), body: jsonDict('pipelined') };
          const file = { id: ctx.ids.next('pipelined-file'), body: Buffer.from('a file sent without waiting\n') };
          await conn.write(
            Buffer.concat([
              encodeControlFrame({ type: 'put_dict', id: dict.id, format: 'json', bytes: dict.body.length }),
              data(dict.body),
              encodeControlFrame({ type: 'put_file', id: file.id, name: 'pipelined.txt', size: file.body.length }),
              data(file.body.subarray(0, 10)),
              data(file.body.subarray(10)),
              encodeControlFrame({
                type: 'file_end',
                id: file.id,
                bytes: file.body.length,
                sha256: sha256Hex(file.body),
              }),
              encodeControlFrame({ type: 'ping', nonce: 'last' }),
            ]),
          );
          await expectReceipt(conn, ctx, { ...dict, kind: 'dict', format: 'json', duplicate: false });
          const ready = await expectMessage(conn, ctx, 'ready', `ready for ${file.id}`);
          check(
            ready.id === file.id && ready.offset === 0,
            () => `expected ready for ${file.id} at 0, got ${show(ready)}`,
          );
          await expectReceipt(conn, ctx, { ...file, kind: 'file', duplicate: false });
          const pong = await expectMessage(conn, ctx, 'pong');
          check(pong.nonce === 'last', () => `expected the pong of the last ping, got ${show(pong)}`);
        }),
    },
  ],
};
