/**
 * docs/PROTOCOL.md §7 Error codes: one case per code a client can provoke, each by its plainest cause, checking
 * the code, whether it is fatal as the table says (a fatal error carries no id and closes the connection), and
 * the put's id on a non-fatal one.
 *
 * Not here, because no client can cause them on purpose: ERR_REJECTED (the operator), ERR_STORAGE (the server's
 * disk), ERR_SHUTTING_DOWN (the server stopping), ERR_INTERNAL. Client side only (checked in client mode where a
 * scripted server can cause them): ERR_FORMAT_UNSUPPORTED, ERR_ID_INVALID, ERR_CONNECT, ERR_CONNECTION_CLOSED,
 * ERR_RECEIPT_MISMATCH.
 */
import { encodeControlFrame, encodeFrameHeader, FrameKind } from '@proj/protocol/wire';
import { Skip, type Case, type Section } from '../../case';
import { need, type ServerContext } from '../context';
import { expectError, expectMessage, expectVersionError } from '../expect';
import type { RawConnection } from '../raw-connection';
import { finishFile, hello, open, refusedDict, startFile, withConnection, withSession } from '../steps';

type Provoke = (ctx: ServerContext) => Promise<void>;

/** After the handshake, write `bytes`: the next answer is the fatal `code`. */
const fatalAfterHello =
  (code: string, bytes: (ctx: ServerContext) => Buffer): Provoke =>
  (ctx) =>
    withSession(ctx, async (conn) => {
      await conn.write(bytes(ctx));
      await expectError(conn, ctx, code, { fatal: true });
    });

/** A dictionary put whose body is refused with `code` for the put. */
const refusedBody =
  (code: string, format: 'json' | 'xml' | 'protobuf', body: (ctx: ServerContext) => Buffer): Provoke =>
  (ctx) =>
    withSession(ctx, (conn) =>
      refusedDict(conn, ctx, { id: ctx.ids.next(code.toLowerCase()), format, body: body(ctx) }, code),
    );

/** A put_file refused before ready with `code` for the put. */
const refusedFile =
  (code: string, fields: (ctx: ServerContext) => Record<string, unknown>): Provoke =>
  (ctx) =>
    withSession(ctx, async (conn) => {
      const id = ctx.ids.next(code.toLowerCase());
      await conn.send({ type: 'put_file', id, name: 'code.txt', ...fields(ctx) });
      await expectError(conn, ctx, code, { id, fatal: false });
    });

/** A file put whose file_end is refused with `code` for the put. */
const refusedEnd =
  (code: string, end: { bytes?: number; sha256?: string }, encryption?: 'age'): Provoke =>
  (ctx) =>
    withSession(ctx, async (conn) => {
      const p = { id: ctx.ids.next(code.toLowerCase()), name: 'end.txt', body: Buffer.from('file end'), encryption };
      await startFile(conn, ctx, p);
      await finishFile(conn, ctx, p, end);
      await expectError(conn, ctx, code, { id: p.id, fatal: false });
    });

const deepJson = (ctx: ServerContext): Buffer => {
  const depth = ctx.welcome.limits.maxDictDepth;
  return Buffer.from(`${'{"k":'.repeat(depth)}{}${'}'.repeat(depth)}`);
};

const timeout: Provoke = async (ctx) => {
  const ms = need(ctx.target.handshakeTimeoutMs, 'the handshake timeout is not announced: give --handshake-timeout');
  if (ms > ctx.target.maxWaitMs) throw new Skip(`the handshake timeout (${ms} ms) is over --max-wait`);
  await withConnection(ctx, (conn) =>
    expectError(conn, ctx, 'ERR_TIMEOUT', { fatal: true, waitMs: ms + ctx.target.answerMs }).then(() => undefined),
  );
};

const tooSlow: Provoke = async (ctx) => {
  const ms = need(ctx.target.transferTimeoutMs, 'the transfer timeout is not announced: give --transfer-timeout');
  if (ms > ctx.target.maxWaitMs) throw new Skip(`the transfer timeout (${ms} ms) is over --max-wait`);
  const idle = ctx.welcome.limits.idleTimeoutMs;
  if (idle !== 0 && idle <= ms) throw new Skip(`the idle timeout (${idle} ms) would end the connection first`);
  await withSession(ctx, async (conn) => {
    await conn.send({ type: 'put_dict', id: ctx.ids.next('slow'), format: 'json', bytes: 100 });
    await expectError(conn, ctx, 'ERR_TOO_SLOW', { fatal: true, waitMs: ms + ctx.target.answerMs });
  });
};

const tooMany: Provoke = async (ctx) => {
  const max = need(ctx.target.maxPerAddress, 'the per-address limit is not announced: give --max-per-address');
  const conns: RawConnection[] = [];
  try {
    for (let i = 0; i < max; i++) {
      const conn = await open(ctx);
      conns.push(conn);
      await conn.send(hello(ctx));
      await expectMessage(conn, ctx, 'welcome');
    }
    const extra = await open(ctx);
    conns.push(extra);
    await expectError(extra, ctx, 'ERR_TOO_MANY_CONNECTIONS', { fatal: true });
  } finally {
    for (const c of conns) c.destroy();
    await new Promise((r) => setTimeout(r, 100));
  }
};

const TABLE: [code: string, when: string, provoke: Provoke, reconcile?: string][] = [
  [
    'ERR_FRAME_TOO_LARGE',
    'a frame header declares more than `maxFrameBytes` … (fatal)',
    fatalAfterHello('ERR_FRAME_TOO_LARGE', (ctx) =>
      encodeFrameHeader(FrameKind.Data, ctx.welcome.limits.maxFrameBytes + 1),
    ),
  ],
  [
    'ERR_FRAME_KIND',
    'a frame kind other than 0x01, 0x02 (fatal)',
    fatalAfterHello('ERR_FRAME_KIND', () => Buffer.from([0, 0, 0, 0, 0x7f])),
  ],
  [
    'ERR_FRAME_TRUNCATED',
    'the stream ended inside a frame (fatal; sent only to a client that half-closed, below)',
    (ctx) =>
      withConnection(ctx, async (conn) => {
        await conn.write(Buffer.concat([encodeControlFrame(hello(ctx)), Buffer.from([0, 0, 0, 9])]));
        await conn.endInput();
        await expectMessage(conn, ctx, 'welcome');
        await expectError(conn, ctx, 'ERR_FRAME_TRUNCATED', { fatal: true });
      }),
  ],
  [
    'ERR_BAD_MESSAGE',
    'a control payload is not UTF-8 JSON or matches no envelope (fatal)',
    fatalAfterHello('ERR_BAD_MESSAGE', () => encodeControlFrame({ type: 'ping', extra: 1 })),
  ],
  [
    'ERR_UNEXPECTED_MESSAGE',
    'a valid message in the wrong place (fatal)',
    (ctx) =>
      withConnection(ctx, async (conn) => {
        await conn.send({ type: 'ping' });
        await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
      }),
  ],
  [
    'ERR_VERSION',
    "the hello's `version` is an *int* the server does not speak (fatal; checked before the rest of the hello; `supported` lists the versions it speaks, §4)",
    (ctx) =>
      withConnection(ctx, async (conn) => {
        await conn.send(hello(ctx, { version: 9999 }));
        await expectVersionError(conn, ctx, 9999);
      }),
  ],
  [
    'ERR_AUTH',
    'token missing or wrong (fatal)',
    (ctx) =>
      withConnection(ctx, async (conn) => {
        const token = need(ctx.target.token, 'the server was run without a token, or none was given (--token-file)');
        await conn.send(hello(ctx, { token: `${token}-wrong` }));
        await expectError(conn, ctx, 'ERR_AUTH', { fatal: true });
      }),
  ],
  [
    'ERR_DICT_INVALID',
    'not a JSON-compatible value tree with an object at the root',
    refusedBody('ERR_DICT_INVALID', 'json', () => Buffer.from('"a string"')),
  ],
  ['ERR_DICT_TOO_DEEP', 'nesting deeper than `maxDictDepth`', refusedBody('ERR_DICT_TOO_DEEP', 'json', deepJson)],
  [
    'ERR_DICT_TOO_LARGE',
    'encoded size over `maxDictBytes` (fatal when declared in `put_dict`)',
    fatalAfterHello('ERR_DICT_TOO_LARGE', (ctx) =>
      encodeControlFrame({
        type: 'put_dict',
        id: ctx.ids.next('large'),
        format: 'xml',
        bytes: ctx.welcome.limits.maxDictBytes + 1,
      }),
    ),
  ],
  [
    'ERR_DECODE',
    'bytes that do not decode in the declared format',
    refusedBody('ERR_DECODE', 'xml', () => Buffer.from('<dict><string key="a">x</dict>')),
  ],
  [
    'ERR_XML_FORBIDDEN',
    'XML with a DOCTYPE, entity declaration or processing instruction',
    refusedBody('ERR_XML_FORBIDDEN', 'xml', () =>
      Buffer.from('<!DOCTYPE dict SYSTEM "http://example.com/x.dtd"><dict></dict>'),
    ),
  ],
  [
    'ERR_UNSAFE_INTEGER',
    'an integer of magnitude 2^53 or more in the binary format, on encode or decode (§5.5)',
    refusedBody('ERR_UNSAFE_INTEGER', 'protobuf', () => Buffer.from('0a0e0a01611209110000000000004043', 'hex')),
  ],
  ['ERR_NAME_INVALID', 'a file name that cleans to nothing', refusedFile('ERR_NAME_INVALID', () => ({ name: '..' }))],
  [
    'ERR_FILE_TOO_LARGE',
    'a file over `maxFileBytes`',
    refusedFile('ERR_FILE_TOO_LARGE', (ctx) => ({ size: ctx.welcome.limits.maxFileBytes + 1 })),
  ],
  ['ERR_SIZE_MISMATCH', 'bytes received differ from the declared count', refusedEnd('ERR_SIZE_MISMATCH', { bytes: 1 })],
  [
    'ERR_CHECKSUM_MISMATCH',
    'SHA-256 of the bytes received differs from the declared one',
    refusedEnd('ERR_CHECKSUM_MISMATCH', { sha256: '0'.repeat(64) }),
  ],
  [
    'ERR_ENCRYPTION_MISMATCH',
    'a file put declared `encryption: "age"` and its bytes are not an age file (§4); nothing stored',
    refusedEnd('ERR_ENCRYPTION_MISMATCH', {}, 'age'),
  ],
  [
    'ERR_OFFSET',
    'a `put_file.offset` other than 0 (a put resumes by asking with `resume`',
    refusedFile('ERR_OFFSET', () => ({ size: 5, offset: 2 })),
  ],
  [
    'ERR_TOO_MANY_CONNECTIONS',
    "the server is at its connection limit, the client's address at its own … (fatal)",
    tooMany,
  ],
  ['ERR_TIMEOUT', 'handshake or idle timeout (fatal)', timeout],
  ['ERR_TOO_SLOW', "a frame or a put's body arrived slower than the server's minimum rate (fatal, §4)", tooSlow],
];

export const errorCodes: Section<ServerContext> = {
  id: '7',
  title: 'Error codes',
  cases: TABLE.map(
    ([code, when, provoke, reconcile], i): Case<ServerContext> => ({
      id: `7.${i + 1}`,
      title: `${code}: ${when.replace(/`/g, '')}`,
      spec: `| \`${code}\` | … | ${when}`,
      ...(reconcile !== undefined ? { reconcile } : {}),
      run: provoke,
    }),
  ),
};
