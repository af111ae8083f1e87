/**
 * docs/PROTOCOL.md §2 Frames: the 5-byte header and its checks, envelopes as UTF-8 JSON, frames independent of
 * TCP segments (the session vector written at every split), the 64 KiB control frame limit, and frames handled in
 * order before a bad header.
 */
import { FrameKind, encodeControlFrame, encodeFrameHeader, parseServerMessage } from '@proj/protocol/wire';
import { check, show, type Case, type Section } from '../../case';
import { vector } from '../../vectors';
import type { ServerContext } from '../context';
import type { RawConnection } from '../raw-connection';
import { expectError, expectMessage, expectReceipt } from '../expect';
import { describeAnswer, sameAnswersAtEverySplit, type SplitStream } from '../splits';
import { hello, jsonDict, withConnection, withSession } from '../steps';

const CONTROL_MAX = 65536;

/** A session's bad control payload after the handshake is ERR_BAD_MESSAGE, fatal. */
function badPayload(id: string, title: string, spec: string, payload: Buffer): Case<ServerContext> {
  return {
    id,
    title,
    spec,
    run: (ctx) =>
      withSession(ctx, async (conn) => {
        await conn.sendJson(payload);
        await expectError(conn, ctx, 'ERR_BAD_MESSAGE', { fatal: true });
      }),
  };
}

/** A header alone (no payload follows): the server must answer it as soon as it is in. */
function badHeader(
  id: string,
  title: string,
  spec: string,
  header: (ctx: ServerContext) => Buffer,
  code: string,
  handshake = true,
): Case<ServerContext> {
  const body = (ctx: ServerContext) => async (conn: RawConnection) => {
    await conn.write(header(ctx));
    await expectError(conn, ctx, code, { fatal: true });
  };
  return { id, title, spec, run: (ctx) => (handshake ? withSession(ctx, body(ctx)) : withConnection(ctx, body(ctx))) };
}

/** The client session vector with fresh put ids (and the kit's hello, which carries a token when one is given). */
function sessionStream(ctx: ServerContext): SplitStream {
  const v = vector(ctx.vectors.sessions, 'client-to-server');
  const fresh = new Map<string, string>();
  const names = new Map<string, string>();
  const idFor = (old: string): string => {
    let id = fresh.get(old);
    if (id === undefined) {
      id = ctx.ids.fixed('sess');
      fresh.set(old, id);
      names.set(id, old);
    }
    return id;
  };
  const frames = v.frames.map((f, i) => {
    if (f.kind === FrameKind.Data) return v.frameBytes[i] as Buffer;
    const m = f.message;
    if (m.type === 'hello')
      return ctx.target.token === undefined ? (v.frameBytes[i] as Buffer) : encodeControlFrame(hello(ctx));
    return encodeControlFrame(typeof m.id === 'string' ? { ...m, id: idFor(m.id) } : m);
  });
  return { bytes: Buffer.concat(frames), names };
}

/** The answers the server-to-client session vector gives. */
function sessionAnswers(ctx: ServerContext): string[] {
  const v = vector(ctx.vectors.sessions, 'server-to-client');
  return v.frames.map((f) =>
    f.kind === FrameKind.Control
      ? describeAnswer(parseServerMessage(Buffer.from(JSON.stringify(f.message))), new Map())
      : 'data',
  );
}

/** hello, ping, then the header `bad`: all in the stream, however it is split. */
function beforeBadHeader(ctx: ServerContext, bad: Buffer): SplitStream {
  const bytes = Buffer.concat([encodeControlFrame(hello(ctx)), encodeControlFrame({ type: 'ping', nonce: 'p1' }), bad]);
  return { bytes, names: new Map() };
}

const tooLarge = (ctx: ServerContext): Buffer =>
  encodeFrameHeader(FrameKind.Data, ctx.welcome.limits.maxFrameBytes + 1);
const badKind = (kind: number): Buffer => Buffer.from([0, 0, 0, 0, kind]);

export const frames: Section<ServerContext> = {
  id: '2',
  title: 'Frames',
  cases: [
    badPayload(
      '2.1',
      'a control payload that is not UTF-8 is ERR_BAD_MESSAGE (fatal)',
      'Invalid UTF-8 or JSON is `ERR_BAD_MESSAGE`.',
      Buffer.from('{"type":"ping","nonce":"\xff"}', 'latin1'),
    ),
    badPayload(
      '2.2',
      'a control payload that is not JSON is ERR_BAD_MESSAGE (fatal)',
      'Invalid UTF-8 or JSON is `ERR_BAD_MESSAGE`.',
      Buffer.from('{"type":"ping"', 'utf8'),
    ),
    badPayload(
      '2.3',
      'a control payload with a byte order mark is ERR_BAD_MESSAGE (fatal)',
      '**Control** frames carry one envelope (section 3): a JSON object encoded as UTF-8, no BOM.',
      Buffer.from('\ufeff{"type":"ping"}', 'utf8'),
    ),
    badHeader(
      '2.4',
      'a header declaring more than maxFrameBytes is ERR_FRAME_TOO_LARGE (fatal) before any payload',
      'A receiver checks `length` against its frame limit (`maxFrameBytes`, section 6) as soon as the 5-byte header is in, before buffering any payload',
      tooLarge,
      'ERR_FRAME_TOO_LARGE',
    ),
    badHeader(
      '2.5',
      'frame kind 0x03 is ERR_FRAME_KIND (fatal)',
      'A kind other than 0x01 or 0x02 is `ERR_FRAME_KIND`.',
      () => badKind(3),
      'ERR_FRAME_KIND',
    ),
    badHeader(
      '2.6',
      'frame kind 0x00 is ERR_FRAME_KIND (fatal)',
      'A kind other than 0x01 or 0x02 is `ERR_FRAME_KIND`.',
      () => badKind(0),
      'ERR_FRAME_KIND',
    ),
    {
      id: '2.7',
      title: 'the session vector written whole, byte by byte and split at every offset gets the same answers',
      spec: 'Frame boundaries are independent of TCP segment boundaries: a receiver must handle a frame split across any number of reads, and several frames in one read.',
      run: (ctx) => sameAnswersAtEverySplit(ctx, { stream: () => sessionStream(ctx), expected: sessionAnswers(ctx) }),
    },
    {
      id: '2.8',
      title: 'hello and two pings in one write: welcome, then both pongs',
      spec: 'a receiver must handle … several frames in one read.',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          const ping = (nonce: string) => encodeControlFrame({ type: 'ping', nonce });
          await conn.write(Buffer.concat([encodeControlFrame(hello(ctx)), ping('a'), ping('b')]));
          await expectMessage(conn, ctx, 'welcome');
          for (const nonce of ['a', 'b']) {
            const pong = await expectMessage(conn, ctx, 'pong');
            check(pong.nonce === nonce, () => `expected the pong of ${nonce}, got ${show(pong)}`);
          }
        }),
    },
    {
      id: '2.9',
      title: 'zero-length data frames inside a dictionary body are allowed',
      spec: 'A zero-length data frame is allowed and carries nothing.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('empty-frames');
          const body = jsonDict('zero-length frames');
          await conn.send({ type: 'put_dict', id, format: 'json', bytes: body.length });
          for (const piece of [Buffer.alloc(0), body.subarray(0, 5), Buffer.alloc(0), body.subarray(5)]) {
            await conn.sendData(piece);
          }
          await expectReceipt(conn, ctx, { id, kind: 'dict', body, format: 'json', duplicate: false });
        }),
    },
    {
      id: '2.10',
      title: 'a hello of exactly 65536 bytes (JSON with trailing spaces) is welcomed',
      spec: "A **control** frame's payload is at most 64 KiB (65536 bytes) … Before the handshake completes, this is the limit for every frame",
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          const json = JSON.stringify(hello(ctx));
          await conn.sendJson(json + ' '.repeat(CONTROL_MAX - Buffer.byteLength(json)));
          await expectMessage(conn, ctx, 'welcome');
        }),
    },
    badHeader(
      '2.11',
      'a control frame over 64 KiB after the handshake is ERR_FRAME_TOO_LARGE (fatal)',
      'A longer control frame is `ERR_FRAME_TOO_LARGE` (fatal).',
      () => encodeFrameHeader(FrameKind.Control, CONTROL_MAX + 1),
      'ERR_FRAME_TOO_LARGE',
    ),
    badHeader(
      '2.12',
      'before the handshake, a data frame over 64 KiB is ERR_FRAME_TOO_LARGE (fatal)',
      'Before the handshake completes, this is the limit for every frame',
      () => encodeFrameHeader(FrameKind.Data, CONTROL_MAX + 1),
      'ERR_FRAME_TOO_LARGE',
      false,
    ),
    {
      id: '2.13',
      title: 'before the handshake, a data frame is ERR_UNEXPECTED_MESSAGE (fatal)',
      spec: '(and a data frame there is `ERR_UNEXPECTED_MESSAGE`)',
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.sendData(Buffer.from('early'));
          await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
        }),
    },
    {
      id: '2.14',
      title: 'hello, ping and a frame of kind 0x03 at every split: welcome, pong, then ERR_FRAME_KIND',
      spec: 'Frames are handled strictly in order, each as if it had arrived alone: the frames before a bad header are handled (and answered) before the error for it, however the stream was split.',
      run: (ctx) =>
        sameAnswersAtEverySplit(ctx, {
          stream: () => beforeBadHeader(ctx, badKind(3)),
          expected: ['welcome version 1', 'pong p1', 'error ERR_FRAME_KIND - fatal true'],
        }),
    },
    {
      id: '2.15',
      title: 'hello, ping and a header over maxFrameBytes at every split: welcome, pong, then ERR_FRAME_TOO_LARGE',
      spec: 'Frames are handled strictly in order, each as if it had arrived alone: the frames before a bad header are handled (and answered) before the error for it, however the stream was split.',
      run: (ctx) =>
        sameAnswersAtEverySplit(ctx, {
          stream: () => beforeBadHeader(ctx, tooLarge(ctx)),
          expected: ['welcome version 1', 'pong p1', 'error ERR_FRAME_TOO_LARGE - fatal true'],
        }),
    },
  ],
};
