/**
 * docs/PROTOCOL.md §4, "Handshake": the first frame must be a hello; the server checks its version first (an int
 * it does not speak is ERR_VERSION with `supported`, whatever else the hello holds; a version that is not an int
 * is ERR_BAD_MESSAGE), then the token, and answers welcome for the hello's version, or a fatal error with the code
 * of the first check that failed.
 */
import { check, type Section } from '../../case';
import { canWait, need, type ServerContext } from '../context';
import { expectError, expectMessage, expectVersionError } from '../expect';
import { hello, pingPong, withConnection, withSession } from '../steps';

const VERSION_FIRST =
  'When it is an *int* the server does not speak (`0` included), the answer is `ERR_VERSION` with `supported`, the versions the server speaks, whatever the rest of the hello holds';
const NOT_AN_INT =
  'A hello with no `version`, or one that is not an *int* (a string, a fraction, a negative number, a number above 2^53 − 1), is `ERR_BAD_MESSAGE`';
const AUTH = 'The token: `ERR_AUTH` when the server requires one and the hello has none or the wrong one';
const NOT_A_HELLO = 'Anything other than a hello first is `ERR_UNEXPECTED_MESSAGE` (fatal)';
const NO_TOKEN = 'the server was run without a token, or none was given (--token-file)';

export const handshake: Section<ServerContext> = {
  id: '4.1',
  title: 'Handshake',
  cases: [
    {
      id: '4.1.1',
      title: 'a hello is answered by a welcome for the version of the hello (1)',
      spec: "The first frame from the client must be a `hello` … Otherwise it answers `welcome`, whose `version` is the hello's",
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
      title: 'a version the server does not speak is ERR_VERSION (fatal), with supported as its last member',
      spec: `${VERSION_FIRST} … A version 1 server speaks version 1 only: its \`supported\` is \`[1]\`.`,
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send(hello(ctx, { version: 2 ** 31 }));
          await expectVersionError(conn, ctx, 2 ** 31);
        }),
    },
    {
      id: '4.1.3',
      title: 'a hello without the token is ERR_AUTH (fatal)',
      spec: AUTH,
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          need(ctx.target.token, NO_TOKEN);
          const { token: _, ...noToken } = hello(ctx);
          await conn.send(noToken);
          await expectError(conn, ctx, 'ERR_AUTH', { fatal: true });
        }),
    },
    {
      id: '4.1.4',
      title: 'a hello with a wrong token is ERR_AUTH (fatal)',
      spec: AUTH,
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          const token = need(ctx.target.token, NO_TOKEN);
          await conn.send(hello(ctx, { token: `${token}x` }));
          await expectError(conn, ctx, 'ERR_AUTH', { fatal: true });
        }),
    },
    {
      id: '4.1.5',
      title: 'a ping before the hello is ERR_UNEXPECTED_MESSAGE (fatal)',
      spec: NOT_A_HELLO,
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send({ type: 'ping', nonce: 'early' });
          await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
        }),
    },
    {
      id: '4.1.6',
      title: 'a put_dict before the hello is ERR_UNEXPECTED_MESSAGE (fatal)',
      spec: NOT_A_HELLO,
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send({ type: 'put_dict', id: ctx.ids.next('early'), format: 'json', bytes: 2 });
          await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
        }),
    },
    {
      id: '4.1.7',
      title: 'a bye before the hello is ERR_UNEXPECTED_MESSAGE (fatal)',
      spec: NOT_A_HELLO,
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send({ type: 'bye' });
          await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
        }),
    },
    {
      id: '4.1.8',
      title: 'a second hello is ERR_UNEXPECTED_MESSAGE (fatal)',
      spec: 'and so is a second `hello`, whatever its version: the version and the capabilities are agreed once per connection',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await conn.send(hello(ctx));
          await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
        }),
    },
    {
      id: '4.1.9',
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
    {
      id: '4.1.10',
      title: 'a second hello of another version is ERR_UNEXPECTED_MESSAGE (fatal), not ERR_VERSION',
      spec: 'and so is a second `hello`, whatever its version',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await conn.send(hello(ctx, { version: 2 }));
          await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
        }),
    },
    {
      id: '4.1.11',
      title: 'a hello of version 2 with fields version 1 does not define is ERR_VERSION, not ERR_BAD_MESSAGE',
      spec: `${VERSION_FIRST}: a later version's hello may carry fields this one does not define.`,
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          const capabilities = Array.from({ length: 65 }, (_, i) => `later-${i}`);
          await conn.send(hello(ctx, { version: 2, capabilities, resume: { from: 7 }, agent: 'a'.repeat(300) }));
          await expectVersionError(conn, ctx, 2);
        }),
    },
    {
      id: '4.1.12',
      title: 'a hello of version 2 with a wrong token is ERR_VERSION: the version is checked before the token',
      spec: '`version`, read before anything else in the hello.',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send(hello(ctx, { version: 2, token: `${ctx.target.token ?? 'no-token'}-wrong` }));
          await expectVersionError(conn, ctx, 2);
        }),
    },
    {
      id: '4.1.13',
      title: 'the largest int, 2^53 − 1, as a version is ERR_VERSION',
      spec: VERSION_FIRST,
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send(hello(ctx, { version: 2 ** 53 - 1 }));
          await expectVersionError(conn, ctx, 2 ** 53 - 1);
        }),
    },
    ...(
      [
        ['no version', undefined],
        ['version −1', -1],
        ['version 2^53', 2 ** 53],
        ['version 2.5', 2.5],
      ] as const
    ).map(([what, version], i) => ({
      id: `4.1.${14 + i}`,
      title: `a hello with ${what} is ERR_BAD_MESSAGE (fatal)`,
      spec: NOT_AN_INT,
      run: (ctx: ServerContext) =>
        withConnection(ctx, async (conn) => {
          const { version: _, ...rest } = hello(ctx);
          await conn.send(version === undefined ? rest : { ...rest, version });
          await expectError(conn, ctx, 'ERR_BAD_MESSAGE', { fatal: true });
        }),
    })),
    {
      id: '4.1.18',
      title:
        'a hello of version 1 with an unknown field and a wrong token is ERR_BAD_MESSAGE: checked before the token',
      spec: 'so is a hello of a spoken version that breaks a rule of section 3 (an unknown field, 65 capabilities) … 2. The token',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send(hello(ctx, { token: `${ctx.target.token ?? 'no-token'}-wrong`, resume: true }));
          await expectError(conn, ctx, 'ERR_BAD_MESSAGE', { fatal: true });
        }),
    },
  ],
};
