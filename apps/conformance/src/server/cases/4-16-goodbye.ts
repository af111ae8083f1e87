/** docs/PROTOCOL.md §4, "Goodbye": bye is answered by bye, then the server closes; a bye mid-put abandons it. */
import type { Section } from '../../case';
import type { ServerContext } from '../context';
import { expectMessage } from '../expect';
import { fileNotStored, startFile, withSession } from '../steps';

export const goodbye: Section<ServerContext> = {
  id: '4.16',
  title: 'Goodbye',
  cases: [
    {
      id: '4.16.1',
      title: 'bye is answered by bye, then the server closes',
      spec: '`bye` from the client is answered with `bye`; the server then closes the connection.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await conn.send({ type: 'bye' });
          await expectMessage(conn, ctx, 'bye');
          await conn.closed(ctx.target.answerMs, 'bye');
        }),
    },
    {
      id: '4.16.2',
      title: 'bye in the middle of a file put: bye, the close, and nothing stored',
      spec: 'A `bye` in the middle of a file put abandons that put (nothing is stored) and is answered the same way.',
      run: async (ctx) => {
        const p = { id: ctx.ids.next('bye-mid'), name: 'bye.txt', body: Buffer.from('abandoned') };
        await withSession(ctx, async (conn) => {
          await startFile(conn, ctx, p);
          await conn.sendData(p.body.subarray(0, 4));
          await conn.send({ type: 'bye' });
          await expectMessage(conn, ctx, 'bye');
          await conn.closed(ctx.target.answerMs, 'bye');
        });
        await fileNotStored(ctx, p.id);
      },
    },
  ],
};
