/**
 * docs/PROTOCOL.md §4, "Resuming": without the capability `resume` nothing changes (offset 0, `resume` an unknown
 * field); with it, a cut file put is continued from the offset and SHA-256 the server answers, the whole file is
 * checked at its end, and what discards a partial does. The cases that need the capability are skipped when the
 * server's welcome does not list it.
 */
import { randomBytes } from 'node:crypto';
import { RESUME_CAPABILITY, type Ready } from '@proj/protocol/wire';
import { check, show, Skip, type Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError, expectMessage, expectReceipt, sha256Hex } from '../expect';
import type { RawConnection } from '../raw-connection';
import { hello, open, pingPong, withSession } from '../steps';

const NEGOTIATED = new Set([RESUME_CAPABILITY]);
const SIZE = 300_000;

/** Runs `body` on a connection that negotiated `resume`; skips the case when the server does not support it. */
async function withResume<T>(ctx: ServerContext, body: (conn: RawConnection) => Promise<T>): Promise<T> {
  const conn = await open(ctx);
  try {
    conn.ignoreUnknownFields();
    await conn.send(hello(ctx, { capabilities: [RESUME_CAPABILITY] }));
    const welcome = await expectMessage(conn, ctx, 'welcome', 'the welcome');
    if (!welcome.capabilities?.includes(RESUME_CAPABILITY)) throw new Skip('the server does not list `resume`');
    conn.negotiated(NEGOTIATED);
    return await body(conn);
  } finally {
    conn.destroy();
  }
}

interface Put {
  id: string;
  body: Buffer;
  size?: number;
  encryption?: 'none' | 'age';
  resume?: boolean;
}

/** Sends put_file on a resume connection and returns its ready. */
async function startPut(conn: RawConnection, ctx: ServerContext, p: Put): Promise<Ready> {
  await conn.send({
    type: 'put_file',
    id: p.id,
    name: 'resume.bin',
    size: p.size ?? p.body.length,
    ...(p.encryption !== undefined ? { encryption: p.encryption } : {}),
    ...(p.resume !== undefined ? { resume: p.resume } : {}),
  });
  const ready = await expectMessage(conn, ctx, 'ready', `ready for ${p.id}`);
  check(ready.id === p.id, () => `expected ready for ${p.id}, got ${show(ready)}`);
  return ready;
}

/** Starts a put of `p.body` on a resume connection, sends its first `n` bytes, and cuts the connection. */
async function cutAfter(ctx: ServerContext, p: Put, n: number): Promise<void> {
  await withResume(ctx, async (conn) => {
    const ready = await startPut(conn, ctx, { ...p, resume: true });
    check(ready.offset === 0, () => `expected a first put to start at 0, got ${show(ready)}`);
    await conn.sendData(p.body.subarray(0, n));
    // A ping answered: the bytes before it were read.
    await pingPong(conn, ctx, 'the pong after the data');
  });
}

/** Checks a ready that continues a partial: 0 ≤ offset ≤ sent, and its sha256 is that of the file's first bytes. */
function checkContinued(ready: Ready, body: Buffer, sent: number): void {
  check(ready.offset <= sent, () => `ready.offset ${ready.offset} is past the ${sent} bytes sent`);
  if (ready.offset === 0) {
    check(ready.sha256 === undefined, () => `ready at offset 0 carries sha256: ${show(ready)}`);
    return;
  }
  const expected = sha256Hex(body.subarray(0, ready.offset));
  check(ready.sha256 === expected, () => `ready.sha256 ${ready.sha256} is not the SHA-256 of the first bytes`);
}

export const resuming: Section<ServerContext> = {
  id: '4.12',
  title: 'Resuming',
  cases: [
    {
      id: '4.12.1',
      title: 'without the capability, put_file with offset 0 is answered ready at offset 0',
      spec: 'On a connection that did not negotiate `resume` nothing of this exists: `ready.offset` is always 0',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('offset0');
          await conn.send({ type: 'put_file', id, name: 'offset.txt', size: 1, offset: 0, encryption: 'none' });
          const ready = await expectMessage(conn, ctx, 'ready');
          check(ready.id === id && ready.offset === 0, () => `expected ready for ${id} at 0, got ${show(ready)}`);
          await conn.send({ type: 'cancel', id });
        }),
    },
    {
      id: '4.12.2',
      title: 'put_file with offset 1 is ERR_OFFSET for the put, and the session goes on',
      spec: '`offset` keeps its rule (0 or absent; anything else is `ERR_OFFSET`)',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('offset1');
          await conn.send({ type: 'put_file', id, name: 'offset.txt', size: 10, offset: 1 });
          await expectError(conn, ctx, 'ERR_OFFSET', { id, fatal: false });
          await pingPong(conn, ctx, 'after the refusal');
        }),
    },
    {
      id: '4.12.3',
      title: 'without the capability, put_file with resume is ERR_BAD_MESSAGE (fatal)',
      spec: 'a `resume` field is `ERR_BAD_MESSAGE` like any unknown field',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('noresume');
          await conn.send({ type: 'put_file', id, name: 'offset.txt', size: 10, resume: true });
          await expectError(conn, ctx, 'ERR_BAD_MESSAGE', { fatal: true });
        }),
    },
    {
      id: '4.12.4',
      title:
        'a cut put is continued: ready gives an offset and the SHA-256 of the bytes before it; the whole file is stored',
      spec: "with `resume: true` and a partial of this id whose declared `size` (or its absence) and `encryption` equal this put's, the server answers `ready` with `offset` N, the number of bytes of the partial it holds durably, and `sha256`, the SHA-256 of those N bytes as it holds them. … then `file_end` with the `bytes` and `sha256` of the whole file, the first N bytes included",
      run: async (ctx) => {
        const p = { id: ctx.ids.next('resumed'), body: randomBytes(SIZE) };
        await cutAfter(ctx, p, 200_000);
        await withResume(ctx, async (conn) => {
          const ready = await startPut(conn, ctx, { ...p, resume: true });
          checkContinued(ready, p.body, 200_000);
          await conn.sendData(p.body.subarray(ready.offset));
          await conn.send({ type: 'file_end', id: p.id, bytes: SIZE, sha256: sha256Hex(p.body) });
          await expectReceipt(conn, ctx, { id: p.id, kind: 'file', body: p.body, duplicate: false });
        });
      },
    },
    {
      id: '4.12.5',
      title: 'resume for an id with no partial: ready at offset 0 without sha256',
      spec: 'Otherwise (no partial, a different size or encryption) it discards the partial and answers `ready` with `offset` 0 and no `sha256`.',
      run: (ctx) =>
        withResume(ctx, async (conn) => {
          const id = ctx.ids.next('nopartial');
          const ready = await startPut(conn, ctx, { id, body: Buffer.alloc(10), resume: true });
          check(ready.offset === 0 && ready.sha256 === undefined, () => `expected ready at 0, got ${show(ready)}`);
          await conn.send({ type: 'cancel', id });
        }),
    },
    {
      id: '4.12.6',
      title: 'resume with another declared size: ready at offset 0',
      spec: 'Otherwise (no partial, a different size or encryption) it discards the partial and answers `ready` with `offset` 0 and no `sha256`.',
      run: async (ctx) => {
        const p = { id: ctx.ids.next('othersize'), body: randomBytes(SIZE) };
        await cutAfter(ctx, p, 100_000);
        await withResume(ctx, async (conn) => {
          const ready = await startPut(conn, ctx, { ...p, size: SIZE + 1, resume: true });
          check(ready.offset === 0 && ready.sha256 === undefined, () => `expected ready at 0, got ${show(ready)}`);
          await conn.send({ type: 'cancel', id: p.id });
        });
      },
    },
    {
      id: '4.12.7',
      title: 'the rest of another file: ERR_CHECKSUM_MISMATCH, and the next resume starts from zero',
      spec: "A check that fails discards the partial: a file made of two different sources is never stored, and the client's next put starts from zero.",
      run: async (ctx) => {
        const p = { id: ctx.ids.next('mixed'), body: randomBytes(SIZE) };
        const other = randomBytes(SIZE);
        await cutAfter(ctx, p, 150_000);
        await withResume(ctx, async (conn) => {
          const ready = await startPut(conn, ctx, { ...p, resume: true });
          checkContinued(ready, p.body, 150_000);
          if (ready.offset === 0) throw new Skip('the server kept nothing of the cut put');
          await conn.sendData(other.subarray(ready.offset));
          await conn.send({ type: 'file_end', id: p.id, bytes: SIZE, sha256: sha256Hex(other) });
          await expectError(conn, ctx, 'ERR_CHECKSUM_MISMATCH', { id: p.id, fatal: false });
          const again = await startPut(conn, ctx, { ...p, resume: true });
          check(again.offset === 0, () => `expected the next put to start from zero, got ${show(again)}`);
          await conn.send({ type: 'cancel', id: p.id });
        });
      },
    },
    {
      id: '4.12.8',
      title: 'a cancelled put leaves no partial: the next resume starts from zero',
      spec: 'A `cancel`, a `bye` in the middle of the put, an error that ends the put (Too many bytes, the checks at `file_end`) and its receipt discard the partial.',
      run: async (ctx) => {
        const p = { id: ctx.ids.next('cancelled'), body: randomBytes(SIZE) };
        await withResume(ctx, async (conn) => {
          await startPut(conn, ctx, { ...p, resume: true });
          await conn.sendData(p.body.subarray(0, 100_000));
          await conn.send({ type: 'cancel', id: p.id });
          const again = await startPut(conn, ctx, { ...p, resume: true });
          check(again.offset === 0, () => `expected ready at 0 after the cancel, got ${show(again)}`);
          await conn.send({ type: 'cancel', id: p.id });
        });
      },
    },
  ],
};
