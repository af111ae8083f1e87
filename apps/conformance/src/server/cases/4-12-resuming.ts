/** docs/PROTOCOL.md §4, "Resuming (reserved)": version 1 answers ready at offset 0 and refuses any other offset. */
import { check, show, type Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError, expectMessage } from '../expect';
import { pingPong, withSession } from '../steps';

export const resuming: Section<ServerContext> = {
  id: '4.12',
  title: 'Resuming (reserved)',
  cases: [
    {
      id: '4.12.1',
      title: 'put_file with offset 0 is answered ready at offset 0',
      spec: 'Version 1 servers always answer `ready` with offset 0',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('offset0');
          await conn.send({ type: 'put_file', id, name: 'offset.txt', size: 1, offset: 0, encryption: 'none' });
          const ready = await expectMessage(conn, ctx, 'ready');
          check(ready.id === id && ready.offset === 0, () => `expected ready for ${id} at 0, got ${show(ready)}`);
          await conn.send({ type: 'cancel', id });
        }),
    },
    {
      id: '4.12.2',
      title: 'put_file with offset 1 is ERR_OFFSET for the put, and the session goes on',
      spec: 'Version 1 servers … refuse any other offset with `ERR_OFFSET`.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('offset1');
          await conn.send({ type: 'put_file', id, name: 'offset.txt', size: 10, offset: 1 });
          await expectError(conn, ctx, 'ERR_OFFSET', { id, fatal: false });
          await pingPong(conn, ctx, 'after the refusal');
        }),
    },
  ],
};
