/**
 * docs/PROTOCOL.md §4, "No answer": a put the client did not see answered (here: the connection closed as soon as
 * the put was written) is sent again under the same id, and gets a receipt for it: the first one, `duplicate:
 * true`, when the server had stored it, a new one when it had not.
 */
import type { Section } from '../../case';
import type { ServerContext } from '../context';
import { expectMessage, checkReceipt } from '../expect';
import { jsonDict, sendDict, withSession } from '../steps';

export const noAnswer: Section<ServerContext> = {
  id: '4.18',
  title: 'No answer',
  cases: [
    {
      id: '4.18.1',
      title: 'a dictionary put whose connection closed before the answer, sent again under its id: its receipt',
      spec: 'In every case a client that still wants the item sends the put again under the same id: if it was stored, it gets the first receipt (Idempotency).',
      run: async (ctx) => {
        const p = { id: ctx.ids.next('unanswered'), format: 'json' as const, body: jsonDict('unanswered') };
        await withSession(ctx, (conn) => sendDict(conn, ctx, p));
        await withSession(ctx, async (conn) => {
          await sendDict(conn, ctx, p);
          const receipt = await expectMessage(conn, ctx, 'receipt', `the receipt of ${p.id}`);
          checkReceipt(receipt, { id: p.id, kind: 'dict', body: p.body, format: 'json', duplicate: receipt.duplicate });
        });
      },
    },
  ],
};
