/**
 * docs/PROTOCOL.md §4, "Handshake": the first frame must be a hello; the server answers welcome, or a fatal
 * error with the code of the check that failed.
 */
import { check, type Section } from '../../case';
import { canWait, need, type ServerContext } from '../context';
import { expectError, expectMessage } from '../expect';
import { hello, pingPong, withConnection, withSession } from '../steps';

export const handshake: Section<ServerContext> = {
  id: '4.1',
  title: 'Handshake',
  cases: [
    {
      id: '4.1.1',
      title: 'a hello is answered by a welcome for version 1',
      spec: 'The first frame from the client must be a `hello` … Otherwise it answers `welcome`.',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send(hello(ctx));
          const welcome = await expectMessage(conn, ctx, 'welcome');
          check(welcome.version === 1, () => `a hello for version 1 got a welcome for version ${welcome.version}`);
          await pingPong(conn, ctx, 'after the welcome');
        }),
    },
    {
      id: '4.1.2',
      title: 'a version the server does not speak is ERR_VERSION (fatal)',
      spec: 'The server answers `error` `ERR_VERSION` (fatal) when it does not speak `version`',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send(hello(ctx, { version: 2 ** 31 }));
          await expectError(conn, ctx, 'ERR_VERSION', { fatal: true });
        }),
    },
    {
      id: '4.1.3',
      title: 'a hello without the token is ERR_AUTH (fatal)',
      spec: '`ERR_AUTH` (fatal) when it requires a token and the hello has none or the wrong one',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          need(ctx.target.token, 'the server was run without a token, or none was given (--token-file)');
          const { token: _, ...noToken } = hello(ctx);
          await conn.send(noToken);
          await expectError(conn, ctx, 'ERR_AUTH', { fatal: true });
        }),
    },
    {
      id: '4.1.4',
      title: 'a hello with a wrong token is ERR_AUTH (fatal)',
      spec: '`ERR_AUTH` (fatal) when it requires a token and the hello has none or the wrong one',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          const token = need(ctx.target.token, 'the server was run without a token, or none was given (--token-file)');
          await conn.send(hello(ctx, { token: `${token}x` }));
          await expectError(conn, ctx, 'ERR_AUTH', { fatal: true });
        }),
    },
    {
      id: '4.1.5',
      title: 'unknown capabilities are ignored',
      spec: 'Unknown `capabilities` are ignored.',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send(hello(ctx, { capabilities: ['conformance-unknown', 'x'.repeat(64)] }));
          await expectMessage(conn, ctx, 'welcome');
        }),
    },
    {
      id: '4.1.6',
      title: 'a ping before the hello is ERR_UNEXPECTED_MESSAGE (fatal)',
      spec: 'Anything other than a hello first is `ERR_UNEXPECTED_MESSAGE` (fatal).',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send({ type: 'ping', nonce: 'early' });
          await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
        }),
    },
    {
      id: '4.1.7',
      title: 'a put_dict before the hello is ERR_UNEXPECTED_MESSAGE (fatal)',
      spec: 'Anything other than a hello first is `ERR_UNEXPECTED_MESSAGE` (fatal).',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send({ type: 'put_dict', id: ctx.ids.next('early'), format: 'json', bytes: 2 });
          await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
        }),
    },
    {
      id: '4.1.8',
      title: 'a bye before the hello is ERR_UNEXPECTED_MESSAGE (fatal)',
      spec: 'Anything other than a hello first is `ERR_UNEXPECTED_MESSAGE` (fatal).',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send({ type: 'bye' });
          await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
        }),
    },
    {
      id: '4.1.9',
      title: 'a second hello is ERR_UNEXPECTED_MESSAGE (fatal)',
      spec: '| `ERR_UNEXPECTED_MESSAGE` | … | a valid message in the wrong place (fatal) |',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await conn.send(hello(ctx));
          await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
        }),
    },
    {
      id: '4.1.10',
      title: 'no hello within the handshake timeout is ERR_TIMEOUT (fatal)',
      spec: 'The first frame from the client must be a `hello`, within the handshake timeout.',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          const ms = need(
            ctx.target.handshakeTimeoutMs,
            'the handshake timeout is not announced: give --handshake-timeout',
          );
          canWait(ctx, ms, 'the handshake timeout');
          await expectError(conn, ctx, 'ERR_TIMEOUT', { fatal: true, waitMs: ms + ctx.target.answerMs });
        }),
    },
  ],
};
