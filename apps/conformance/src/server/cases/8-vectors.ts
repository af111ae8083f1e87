/**
 * docs/PROTOCOL.md §8 Golden vectors: every frame vector a client sends (spec/vectors/frames) sent to the server as
 * it is (a put's id replaced by a fresh one, since the server keeps every receipt; the kit's token added to a
 * hello when the server needs one), and its answers held against the answer vectors: the members a server does
 * not choose itself must be as in the vector. The session vectors are case 2.7, the dictionary sample cases
 * 5.7.1-5.7.3.
 */
import { encodeControlFrame } from '@proj/protocol/wire';
import type { Receipt } from '@proj/protocol/wire';
import { check, show, type Case, type Section } from '../../case';
import { vector } from '../../vectors';
import type { ServerContext } from '../context';
import { expectErrorFrame, expectFrame, expectError, expectMessage, memberOrder } from '../expect';
import type { RawConnection } from '../raw-connection';
import { pingPong, withConnection, withSession } from '../steps';

/** The bytes of frame vector `name`. */
const bytesOf = (ctx: ServerContext, name: string): Buffer => vector(ctx.vectors.frames, name).bytes;

/** The envelope of frame vector `name`. */
function messageOf(ctx: ServerContext, name: string): Record<string, unknown> {
  const f = vector(ctx.vectors.frames, name).frames[0];
  if (f?.kind !== 1) throw new Error(`${name} is not a control frame vector`);
  return f.message;
}

/** Control vector `name` with its put id replaced (members stay in their order). */
const withId = (ctx: ServerContext, name: string, id: string): Buffer =>
  encodeControlFrame({ ...messageOf(ctx, name), id });

/** The receipt's members the vector fixes: all but id, path and receivedAt. */
function sameAsVector(ctx: ServerContext, receipt: Receipt, name: string): void {
  const v = messageOf(ctx, name);
  for (const key of ['kind', 'bytes', 'sha256', 'format', 'encrypted', 'duplicate'] as const) {
    check(
      receipt[key] === v[key],
      () => `${key}: the vector ${name} has ${show(v[key])}, the server sent ${show(receipt[key])}`,
    );
  }
}

const SPEC = 'The test suite … encodes and decodes each of them and must reproduce them exactly';

const send = (
  name: string,
  title: string,
  run: (ctx: ServerContext, conn: RawConnection) => Promise<void>,
  session = true,
): Case<ServerContext> => ({
  id: name,
  title,
  spec: SPEC,
  run: (ctx) => (session ? withSession(ctx, (conn) => run(ctx, conn)) : withConnection(ctx, (conn) => run(ctx, conn))),
});

export const vectors: Section<ServerContext> = {
  id: '8',
  title: 'Golden vectors',
  cases: [
    send(
      '8.1',
      'frames/hello-token.json (a token, an unknown capability): welcome, or ERR_AUTH when the server wants another token',
      async (ctx, conn) => {
        await conn.write(bytesOf(ctx, 'hello-token'));
        const token = messageOf(ctx, 'hello-token').token;
        if (ctx.target.token === undefined || ctx.target.token === token) await expectMessage(conn, ctx, 'welcome');
        else await expectError(conn, ctx, 'ERR_AUTH', { fatal: true });
      },
      false,
    ),
    send(
      '8.2',
      'frames/hello.json: welcome (ERR_AUTH when the server wants a token)',
      async (ctx, conn) => {
        await conn.write(bytesOf(ctx, 'hello'));
        if (ctx.target.token === undefined) await expectMessage(conn, ctx, 'welcome');
        else await expectError(conn, ctx, 'ERR_AUTH', { fatal: true });
      },
      false,
    ),
    send('8.3', 'frames/ping.json: the pong of frames/pong.json', async (ctx, conn) => {
      await conn.write(bytesOf(ctx, 'ping'));
      const pong = await expectMessage(conn, ctx, 'pong');
      check(
        show(pong) === show(messageOf(ctx, 'pong')),
        () => `expected ${show(messageOf(ctx, 'pong'))}, got ${show(pong)}`,
      );
    }),
    send(
      '8.4',
      'frames/put-dict.json and frames/data-dict.json: a receipt as frames/dict-receipt.json',
      async (ctx, conn) => {
        const id = ctx.ids.next('v-dict');
        await conn.write(Buffer.concat([withId(ctx, 'put-dict', id), bytesOf(ctx, 'data-dict')]));
        const receipt = await expectMessage(conn, ctx, 'receipt');
        check(receipt.id === id, () => `expected the receipt of ${id}, got ${show(receipt)}`);
        sameAsVector(ctx, receipt, 'dict-receipt');
      },
    ),
    send(
      '8.5',
      'frames/put-file.json, frames/data-empty.json, frames/data-file.json, frames/file-end.json: ready as frames/ready.json, a receipt as frames/file-receipt.json',
      async (ctx, conn) => {
        const id = ctx.ids.next('v-file');
        await conn.write(withId(ctx, 'put-file', id));
        const ready = await expectMessage(conn, ctx, 'ready');
        check(
          show(ready) === show({ ...messageOf(ctx, 'ready'), id }),
          () => `expected ${show(messageOf(ctx, 'ready'))} for ${id}, got ${show(ready)}`,
        );
        await conn.write(
          Buffer.concat([bytesOf(ctx, 'data-empty'), bytesOf(ctx, 'data-file'), withId(ctx, 'file-end', id)]),
        );
        const receipt = await expectMessage(conn, ctx, 'receipt');
        check(receipt.id === id, () => `expected the receipt of ${id}, got ${show(receipt)}`);
        sameAsVector(ctx, receipt, 'file-receipt');
      },
    ),
    send('8.6', 'frames/cancel.json with no put in progress: ignored', async (ctx, conn) => {
      await conn.write(bytesOf(ctx, 'cancel'));
      await pingPong(conn, ctx, 'the cancel is not answered');
    }),
    send(
      '8.7',
      'a body nested too deep answered as frames/error.json: ERR_DICT_TOO_DEEP for the put, not fatal',
      async (ctx, conn) => {
        const v = messageOf(ctx, 'error');
        const id = ctx.ids.next('v-error');
        const depth = ctx.welcome.limits.maxDictDepth + 1;
        const body = Buffer.from(`${'{"k":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`);
        await conn.send({ type: 'put_dict', id, format: 'json', bytes: body.length });
        await conn.sendData(body);
        await expectError(conn, ctx, String(v.code), { id, fatal: v.fatal === true });
      },
    ),
    send('8.8', 'frames/bye.json: the same bye back, then the close', async (ctx, conn) => {
      await conn.write(bytesOf(ctx, 'bye'));
      const bye = await expectMessage(conn, ctx, 'bye');
      check(
        show(bye) === show(messageOf(ctx, 'bye')),
        () => `expected ${show(messageOf(ctx, 'bye'))}, got ${show(bye)}`,
      );
      await conn.closed(ctx.target.answerMs, 'bye');
    }),
    send(
      '8.9',
      'frames/hello-capabilities.json (with the token, when one is given): a welcome as frames/welcome-capabilities.json',
      async (ctx, conn) => {
        conn.ignoreUnknownFields();
        const message = messageOf(ctx, 'hello-capabilities');
        const bytes =
          ctx.target.token === undefined
            ? bytesOf(ctx, 'hello-capabilities')
            : encodeControlFrame({ ...message, token: ctx.target.token });
        await conn.write(bytes);
        const { message: welcome, bytes: payload } = await expectFrame(conn, ctx, 'welcome');
        const v = messageOf(ctx, 'welcome-capabilities');
        check(welcome.version === v.version, () => `expected version ${show(v.version)}, got ${welcome.version}`);
        const asked = message.capabilities as string[];
        const listed = welcome.capabilities;
        check(
          listed !== undefined && !listed.some((name) => asked.includes(name)),
          () => `expected capabilities listing none of ${show(asked)} (no server supports them), got ${show(listed)}`,
        );
        const order = memberOrder(payload);
        check(order.at(-1) === 'capabilities', () => `capabilities is the last member, got ${show(order)}`);
      },
      false,
    ),
    send(
      '8.10',
      'frames/hello-version-2.json: the answer of frames/error-version.json (ERR_VERSION, fatal, supported [1])',
      async (ctx, conn) => {
        await conn.write(bytesOf(ctx, 'hello-version-2'));
        const v = messageOf(ctx, 'error-version');
        const { message: error, bytes } = await expectErrorFrame(conn, ctx, String(v.code), {
          fatal: v.fatal === true,
        });
        check(
          show(error.supported) === show(v.supported),
          () => `expected supported ${show(v.supported)}, got ${show(error.supported)}`,
        );
        const order = memberOrder(bytes);
        check(
          show(order) === show(Object.keys(v)),
          () => `expected the members ${show(Object.keys(v))}, got ${show(order)}`,
        );
      },
      false,
    ),
  ],
};
