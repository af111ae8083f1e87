/**
 * An envelope a server must refuse with ERR_BAD_MESSAGE, fatal (docs/PROTOCOL.md §3; §7: "a control payload …
 * matches no envelope"): written as JSON text, so that any shape can be sent, as the hello or after it.
 */
import type { Case } from '../../case';
import type { ServerContext } from '../context';
import { expectError } from '../expect';
import type { RawConnection } from '../raw-connection';
import { hello, startFile, withConnection, withSession } from '../steps';

/** An envelope (as JSON text, so that any shape can be written) that must be refused. */
export interface Refusal {
  id: string;
  title: string;
  spec: string;
  /** Sent instead of the hello (true), or after the handshake. */
  asHello?: boolean;
  /** Open a file put first (the envelope is sent while it is in progress). */
  inFilePut?: boolean;
  json: (ctx: ServerContext) => string;
}

async function sendRefusal(r: Refusal, ctx: ServerContext, expect: (conn: RawConnection) => Promise<void>) {
  const send = async (conn: RawConnection) => {
    await conn.sendJson(r.json(ctx));
    await expect(conn);
  };
  if (r.asHello) return withConnection(ctx, send);
  return withSession(ctx, async (conn) => {
    if (r.inFilePut) {
      await startFile(conn, ctx, { id: ctx.ids.next('env'), name: 'envelope.txt', body: Buffer.from('abc') });
    }
    await send(conn);
  });
}

/** An envelope that must be ERR_BAD_MESSAGE, fatal. */
export const bad = (r: Refusal): Case<ServerContext> => ({
  id: r.id,
  title: `${r.title} is ERR_BAD_MESSAGE (fatal)`,
  spec: r.spec,
  run: (ctx) =>
    sendRefusal(r, ctx, (conn) => expectError(conn, ctx, 'ERR_BAD_MESSAGE', { fatal: true }).then(() => {})),
});

/** A hello of the kit's (with its token) with `fields` replaced, as JSON. */
export const helloJson = (fields: Record<string, unknown>) => (ctx: ServerContext) =>
  JSON.stringify(hello(ctx, fields));
