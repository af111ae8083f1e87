/**
 * docs/PROTOCOL.md §4, "Admission": before the hello, a server may close a connection with
 * ERR_TOO_MANY_CONNECTIONS when one address holds as many as it allows, or to make room for a newer one. The
 * limits are not announced: these cases run when the person running the kit gives them.
 */
import { Skip, type Section } from '../../case';
import { need, type ServerContext } from '../context';
import { expectError, expectMessage } from '../expect';
import type { RawConnection } from '../raw-connection';
import { handshake, hello, open } from '../steps';

async function closeAll(conns: RawConnection[]): Promise<void> {
  for (const c of conns) c.destroy();
  // Let the server see the closes before the next case counts connections again.
  await new Promise((r) => setTimeout(r, 100));
}

export const admission: Section<ServerContext> = {
  id: '4.3',
  title: 'Admission',
  cases: [
    {
      id: '4.3.1',
      title: 'one connection more than --max-per-address is ERR_TOO_MANY_CONNECTIONS (fatal)',
      spec: 'Before the `hello`, a server may close a connection with `ERR_TOO_MANY_CONNECTIONS` (fatal) when one address already holds as many connections as it allows (`--max-per-address`)',
      run: async (ctx) => {
        const max = need(ctx.target.maxPerAddress, 'the per-address limit is not announced: give --max-per-address');
        const conns: RawConnection[] = [];
        try {
          for (let i = 0; i < max; i++) conns.push((await handshake(ctx)).conn);
          const extra = await open(ctx);
          conns.push(extra);
          await expectError(extra, ctx, 'ERR_TOO_MANY_CONNECTIONS', { fatal: true });
        } finally {
          await closeAll(conns);
        }
      },
    },
    {
      id: '4.3.2',
      title:
        'past --max-pending silent connections, a new one that says hello is welcomed and the oldest silent one closed',
      spec: 'or, when too many connections are waiting for their hello, to make room for a newer one (the oldest waiting connection of the address with the most waiting goes first). A client that sends its `hello` as soon as it connects is not affected by sockets that never speak.',
      run: async (ctx) => {
        const pending = need(
          ctx.target.maxPending,
          'the limit of waiting connections is not announced: give --max-pending',
        );
        const perAddress = ctx.target.maxPerAddress;
        if (perAddress !== undefined && pending + 1 > perAddress) {
          throw new Skip(
            `--max-pending ${pending} is not below --max-per-address ${perAddress}: that limit comes first`,
          );
        }
        const silent: RawConnection[] = [];
        try {
          for (let i = 0; i < pending; i++) {
            silent.push(await open(ctx));
            await new Promise((r) => setTimeout(r, 5));
          }
          const speaker = await open(ctx);
          silent.push(speaker);
          await speaker.send(hello(ctx));
          await expectMessage(speaker, ctx, 'welcome');
          await expectError(silent[0] as RawConnection, ctx, 'ERR_TOO_MANY_CONNECTIONS', { fatal: true });
        } finally {
          await closeAll(silent);
        }
      },
    },
  ],
};
