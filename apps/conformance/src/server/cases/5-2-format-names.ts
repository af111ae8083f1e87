/**
 * docs/PROTOCOL.md §5.2 Format names: on the wire only `json`, `xml` and `protobuf` (§3; §7: "on the wire, an
 * envelope with another format is ERR_BAD_MESSAGE"), so the `binary` alias is refused there.
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
      spec: 'The alias is accepted on input and never sent. … on the wire, an envelope with another format is `ERR_BAD_MESSAGE`',
      reconcile: 'issue #13 item 11: §5.2 and §5.6 say the alias is accepted, §3 and §7 refuse it on the wire',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await conn.send({ type: 'put_dict', id: ctx.ids.next('binary'), format: 'binary', bytes: 0 });
          await expectError(conn, ctx, 'ERR_BAD_MESSAGE', { fatal: true });
        }),
    },
  ],
};
