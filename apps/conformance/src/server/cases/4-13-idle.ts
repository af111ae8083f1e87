/**
 * docs/PROTOCOL.md §4, "Idle and keep-alive": silence for `idleTimeoutMs` (announced in the welcome) ends the
 * connection with ERR_TIMEOUT; pings more often than that keep it.
 */
import { check, Skip, type Section } from '../../case';
import { canWait, type ServerContext } from '../context';
import { expectError } from '../expect';
import { pingPong, withSession } from '../steps';

function idleMs(ctx: ServerContext): number {
  const ms = ctx.welcome.limits.idleTimeoutMs;
  if (ms === 0) throw new Skip('the server announces no idle timeout (idleTimeoutMs 0)');
  return ms;
}

export const idle: Section<ServerContext> = {
  id: '4.13',
  title: 'Idle and keep-alive',
  cases: [
    {
      id: '4.13.1',
      title: 'silence for idleTimeoutMs is ERR_TIMEOUT (fatal), not before',
      spec: 'A connection that sends no whole frame for `idleTimeoutMs` is closed by the server with `ERR_TIMEOUT` (fatal)',
      run: async (ctx) => {
        const ms = idleMs(ctx);
        canWait(ctx, ms, 'the idle timeout');
        await withSession(ctx, async (conn) => {
          const started = Date.now();
          await expectError(conn, ctx, 'ERR_TIMEOUT', { fatal: true, waitMs: ms + ctx.target.answerMs });
          const waited = Date.now() - started;
          check(waited >= ms * 0.9, () => `ERR_TIMEOUT came after ${waited} ms, before idleTimeoutMs (${ms} ms)`);
        });
      },
    },
    {
      id: '4.13.2',
      title: 'a ping every third of idleTimeoutMs keeps the connection for twice that long',
      spec: 'A client that wants to stay connected while idle sends `ping` more often than that.',
      run: async (ctx) => {
        const ms = idleMs(ctx);
        canWait(ctx, 2 * ms, 'twice the idle timeout');
        await withSession(ctx, async (conn) => {
          for (let waited = 0; waited < 2 * ms; waited += ms / 3) {
            await new Promise((r) => setTimeout(r, ms / 3));
            await pingPong(conn, ctx, 'kept alive');
          }
        });
      },
    },
  ],
};
