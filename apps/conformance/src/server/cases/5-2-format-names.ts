/**
 * docs/PROTOCOL.md §5.2 Format names: on the wire only `json`, `xml` and `protobuf`; `binary` is a name for people
 * (a local alias of a client), and in an envelope it is ERR_BAD_MESSAGE like any other name.
 */
import type { Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError } from '../expect';
import { withSession } from '../steps';

export const formatNames: Section<ServerContext> = {
  id: '5.2',
  title: 'Format names',
  cases: [
    {
      id: '5.2.1',
      title: 'put_dict with the alias binary is ERR_BAD_MESSAGE (fatal)',
      spec: 'Any other name in an envelope, `binary` included, makes the envelope invalid: `ERR_BAD_MESSAGE`, fatal (§3).',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await conn.send({ type: 'put_dict', id: ctx.ids.next('binary'), format: 'binary', bytes: 0 });
          await expectError(conn, ctx, 'ERR_BAD_MESSAGE', { fatal: true });
        }),
    },
  ],
};
