/**
 * docs/PROTOCOL.md §4, "Minimum rate": a put's body that stops arriving ends the connection with ERR_TOO_SLOW
 * once the transfer timeout's credit is spent, and nothing of the put is stored. The transfer timeout is not
 * announced: these cases run when it is given (--transfer-timeout).
 */
import { Skip, type Section } from '../../case';
import { canWait, need, type ServerContext } from '../context';
import { expectError } from '../expect';
import { fileNotStored, jsonDict, startFile, storedNow, withSession } from '../steps';

function transferMs(ctx: ServerContext): number {
  const ms = need(ctx.target.transferTimeoutMs, 'the transfer timeout is not announced: give --transfer-timeout');
  const idle = ctx.welcome.limits.idleTimeoutMs;
  if (idle !== 0 && idle <= ms) throw new Skip(`the idle timeout (${idle} ms) would end the connection first`);
  canWait(ctx, ms, 'the transfer timeout');
  return ms;
}

const SPEC =
  "While a frame is arriving, or a put's body (from `put_dict`, or from `ready` until `file_end` or `cancel`), the client must keep sending at a minimum rate … A client that runs out is closed with `ERR_TOO_SLOW` (fatal); nothing of its put is stored.";

export const minRate: Section<ServerContext> = {
  id: '4.14',
  title: 'Minimum rate',
  cases: [
    {
      id: '4.14.1',
      title: 'a dictionary body that stops arriving is ERR_TOO_SLOW (fatal); nothing stored',
      spec: SPEC,
      run: async (ctx) => {
        const ms = transferMs(ctx);
        const id = ctx.ids.next('slow');
        const body = jsonDict('slow', { padding: 'p'.repeat(500) });
        await withSession(ctx, async (conn) => {
          await conn.send({ type: 'put_dict', id, format: 'json', bytes: body.length });
          await conn.sendData(body.subarray(0, 10));
          await expectError(conn, ctx, 'ERR_TOO_SLOW', { fatal: true, waitMs: ms + ctx.target.answerMs });
        });
        await storedNow(ctx, id, body);
      },
    },
    {
      id: '4.14.2',
      title: 'a file that stops arriving after ready is ERR_TOO_SLOW (fatal); nothing stored',
      spec: SPEC,
      run: async (ctx) => {
        const ms = transferMs(ctx);
        const p = { id: ctx.ids.next('slow-file'), name: 'slow.txt', body: Buffer.alloc(1000, 0x61) };
        await withSession(ctx, async (conn) => {
          await startFile(conn, ctx, p);
          await conn.sendData(p.body.subarray(0, 10));
          await expectError(conn, ctx, 'ERR_TOO_SLOW', { fatal: true, waitMs: ms + ctx.target.answerMs });
        });
        await fileNotStored(ctx, p.id);
      },
    },
  ],
};
