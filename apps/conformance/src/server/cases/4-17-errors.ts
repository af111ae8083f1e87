/**
 * docs/PROTOCOL.md §4, "Errors": after a non-fatal error the session goes on between puts; after a fatal one the
 * server closes, and answers nothing more.
 */
import type { Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError } from '../expect';
import { jsonDict, putDict, putFile, refusedDict, withSession } from '../steps';

export const errors: Section<ServerContext> = {
  id: '4.17',
  title: 'Errors',
  cases: [
    {
      id: '4.17.1',
      title: 'after non-fatal errors the session goes on: a dictionary and a file are stored',
      spec: "After a non-fatal error the session continues between puts, except after an error that ended a file put mid-stream, when it skips that put's data first",
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await refusedDict(
            conn,
            ctx,
            { id: ctx.ids.next('invalid'), format: 'json', body: Buffer.from('[]') },
            'ERR_DICT_INVALID',
          );
          const id = ctx.ids.next('offset');
          await conn.send({ type: 'put_file', id, name: 'x.txt', offset: 3 });
          await expectError(conn, ctx, 'ERR_OFFSET', { id, fatal: false });
          await putDict(conn, ctx, { id: ctx.ids.next('then'), format: 'json', body: jsonDict('then a dict') });
          await putFile(conn, ctx, { id: ctx.ids.next('then'), name: 'then.txt', body: Buffer.from('then a file') });
        }),
    },
    {
      id: '4.17.2',
      title: 'after a fatal error the server closes and answers nothing more',
      spec: 'After a fatal one the server closes the connection.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await conn.write(
            Buffer.concat([Buffer.from([0, 0, 0, 2, 1]), Buffer.from('{}'), Buffer.from([0, 0, 0, 16, 1])]),
          );
          await conn.send({ type: 'ping', nonce: 'after' });
          await expectError(conn, ctx, 'ERR_BAD_MESSAGE', { fatal: true });
        }),
    },
  ],
};
