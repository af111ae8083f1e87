/**
 * docs/PROTOCOL.md §4, "Capabilities": a hello that lists capabilities gets a welcome whose last member,
 * `capabilities`, lists every capability the server supports (whatever the hello asked); a hello that lists none
 * gets the welcome of version 1 without the field; entries the server does not support are ignored, never
 * refused; and what a client sends stays strict. The kit asks for names no server can support (`x-` names with
 * this run's id), so the intersection is empty and the connection speaks plain version 1.
 */
import type { Welcome } from '@proj/protocol/wire';
import { check, show, type Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError, expectFrame, memberOrder } from '../expect';
import type { RawConnection } from '../raw-connection';
import { hello, jsonDict, open, putDict } from '../steps';

/** Names no server supports: `x-` names are never defined by the spec, and this run's id makes them unique. */
const unknownNames = (ctx: ServerContext): string[] => [
  `x-conformance-${ctx.ids.run}`,
  `x-conformance-${ctx.ids.run}/2`,
];

/**
 * A connection whose hello lists `capabilities` (`undefined`: no field), read as such a client reads (unknown
 * fields ignored when it listed some), with its welcome and the welcome's member names in order.
 */
async function negotiate(
  ctx: ServerContext,
  capabilities: readonly string[] | undefined,
): Promise<{ conn: RawConnection; welcome: Welcome; members: string[] }> {
  const conn = await open(ctx);
  try {
    if (capabilities !== undefined && capabilities.length > 0) conn.ignoreUnknownFields();
    const { capabilities: _, ...rest } = hello(ctx);
    await conn.send(capabilities === undefined ? rest : { ...rest, capabilities });
    const { message, bytes } = await expectFrame(conn, ctx, 'welcome', 'the welcome');
    return { conn, welcome: message, members: memberOrder(bytes) };
  } catch (err) {
    conn.destroy();
    throw err;
  }
}

/** Runs `body` on a negotiated connection, and closes it whatever happens. */
async function withNegotiated<T>(
  ctx: ServerContext,
  capabilities: readonly string[] | undefined,
  body: (n: Awaited<ReturnType<typeof negotiate>>) => Promise<T>,
): Promise<T> {
  const n = await negotiate(ctx, capabilities);
  try {
    return await body(n);
  } finally {
    n.conn.destroy();
  }
}

/** The welcome carries `capabilities` as its last member, and none of the names `asked` that no server supports. */
function checkListed(welcome: Welcome, members: readonly string[], unsupported: readonly string[]): string[] {
  const listed = welcome.capabilities;
  check(
    listed !== undefined,
    () => `a hello that lists capabilities gets a welcome with capabilities, got ${show(welcome)}`,
  );
  check(members.at(-1) === 'capabilities', () => `capabilities is the welcome's last member, got ${show(members)}`);
  const strange = listed.filter((name) => unsupported.includes(name));
  check(strange.length === 0, () => `the welcome lists capabilities no server supports: ${show(strange)}`);
  return listed;
}

export const capabilities: Section<ServerContext> = {
  id: '4.2',
  title: 'Capabilities',
  cases: [
    {
      id: '4.2.1',
      title: 'a hello listing capabilities gets the same welcome with capabilities as its last member',
      spec: '*Answering.* When the hello lists at least one entry, the welcome carries `capabilities`, as its last member: every capability the server supports, `[]` when it supports none.',
      run: (ctx) =>
        withNegotiated(ctx, unknownNames(ctx), async ({ welcome, members }) => {
          checkListed(welcome, members, unknownNames(ctx));
          const { capabilities: _, ...rest } = welcome;
          for (const key of ['version', 'limits', 'formats', 'encryption'] as const) {
            check(
              show(rest[key]) === show(ctx.welcome[key]),
              () => `${key} differs from the welcome of a hello without capabilities: ${show(rest[key])}`,
            );
          }
        }),
    },
    {
      id: '4.2.2',
      title: 'a hello with capabilities [] or without the field gets a welcome without capabilities',
      spec: 'When the hello lists none (`[]`, or no field), the welcome has no `capabilities` field',
      run: async (ctx) => {
        for (const asked of [[], undefined]) {
          await withNegotiated(ctx, asked, async ({ welcome, members }) => {
            check(
              !members.includes('capabilities'),
              () => `a hello with capabilities ${show(asked)} got a welcome with capabilities: ${show(welcome)}`,
            );
          });
        }
      },
    },
    {
      id: '4.2.3',
      title: 'unknown names, repeats and strings that are not capability names are ignored: the same list comes back',
      spec: '*Asking.* The client lists the capabilities it asks for in `hello.capabilities`. The server ignores every entry it does not support: unknown names, repeats, and strings that are not capability names at all (version 1 allowed any string of at most 64 characters there, so they are not refused).',
      run: async (ctx) => {
        const names = unknownNames(ctx);
        const odd = [...names, names[0] as string, 'Not A Name!', '', 'x'.repeat(64), 'resume/0', 'é'];
        const first = await withNegotiated(ctx, names, async (n) => checkListed(n.welcome, n.members, names));
        const second = await withNegotiated(ctx, odd, async (n) => checkListed(n.welcome, n.members, odd));
        check(
          show(first) === show(second),
          () =>
            `the welcome lists every capability the server supports whatever was asked: ${show(first)}, then ${show(second)}`,
        );
      },
    },
    {
      id: '4.2.4',
      title: 'after a negotiation with nothing in common the connection speaks version 1: a dictionary is stored',
      spec: '*Using.* The connection uses the capabilities both lists hold, and no other',
      run: (ctx) =>
        withNegotiated(ctx, unknownNames(ctx), async ({ conn }) => {
          await putDict(conn, ctx, { id: ctx.ids.next('negotiated'), format: 'json', body: jsonDict('negotiated') });
        }),
    },
    {
      id: '4.2.5',
      title: 'a client that listed capabilities still may not send unknown fields: ERR_BAD_MESSAGE (fatal)',
      spec: 'The other direction stays strict: a server refuses every field that section 3 (or a capability the connection negotiated) does not define.',
      run: (ctx) =>
        withNegotiated(ctx, unknownNames(ctx), async ({ conn }) => {
          await conn.send({ type: 'ping', nonce: 'strict', [`x-conformance-${ctx.ids.run}`]: true });
          await expectError(conn, ctx, 'ERR_BAD_MESSAGE', { fatal: true });
        }),
    },
  ],
};
