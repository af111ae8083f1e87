/**
 * docs/PROTOCOL.md §4, "Too many bytes": data past the declared size is ERR_SIZE_MISMATCH, past maxFileBytes
 * without a size ERR_FILE_TOO_LARGE, whichever limit the same frame also crosses and however the data is cut;
 * the error comes at once, then the server skips the put's data until its file_end or cancel, unanswered.
 */
import type { Section } from '../../case';
import { canSend, type ServerContext } from '../context';
import { expectError, expectMessage, sha256Hex } from '../expect';
import type { RawConnection } from '../raw-connection';
import { pingPong, putFile, withSession } from '../steps';

const body = (text: string): Buffer => Buffer.from(`${text}\n`, 'utf8');
const CODES =
  'With a declared `size`, the first byte past it is `ERR_SIZE_MISMATCH`; without one, the first byte past `maxFileBytes` is `ERR_FILE_TOO_LARGE`.';
const SKIPS =
  "In each case the server sends `error` with the put's id as soon as it knows (possibly in the middle of a data frame), discards the temporary file, and then *skips*: it ignores data frames until the client's `file_end` or `cancel` for that id, which it does not answer.";
const NEVER_DEPENDS =
  'A declared size is at most `maxFileBytes` (or the put was refused at step 4), so the bytes always pass it first: which code a client gets never depends on how its data was cut into frames or TCP segments.';

/** Sends `total` bytes in data frames of the sizes given (the last one repeated), up to `total`. */
async function sendBytes(conn: RawConnection, total: number, sizes: readonly number[]): Promise<void> {
  const last = sizes[sizes.length - 1] ?? 1;
  const big = Buffer.alloc(Math.max(last, ...sizes), 0x62);
  let sent = 0;
  for (let i = 0; sent < total; i++) {
    const n = Math.min(sizes[i] ?? last, total - sent);
    await conn.sendData(big.subarray(0, n));
    sent += n;
  }
}

/** A put_file of size maxFileBytes overrun by one byte, the data cut into frames of `sizes`: ERR_SIZE_MISMATCH. */
async function overrunAtMax(ctx: ServerContext, sizes: (max: number, frame: number) => number[]): Promise<void> {
  const max = ctx.welcome.limits.maxFileBytes;
  canSend(ctx, max + 1, 'going past a size of maxFileBytes');
  await withSession(ctx, async (conn) => {
    const id = ctx.ids.next('overrun-max');
    await conn.send({ type: 'put_file', id, name: 'overrun.bin', size: max });
    await expectMessage(conn, ctx, 'ready');
    const frame = Math.max(1, Math.min(ctx.welcome.limits.maxFrameBytes, 256 * 1024));
    await sendBytes(conn, max + 1, sizes(max, frame));
    await expectError(conn, ctx, 'ERR_SIZE_MISMATCH', { id, fatal: false });
    await conn.send({ type: 'cancel', id });
    await pingPong(conn, ctx, 'after the cancel');
  });
}

export const tooManyBytes: Section<ServerContext> = {
  id: '4.7',
  title: 'Too many bytes',
  cases: [
    {
      id: '4.7.1',
      title: 'more bytes than the declared size: ERR_SIZE_MISMATCH at once, then data and file_end ignored, unanswered',
      spec: `${CODES} … ${SKIPS}`,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const p = { id: ctx.ids.next('over'), name: 'over.txt', body: body('more than declared') };
          await conn.send({ type: 'put_file', id: p.id, name: p.name, size: 4 });
          await expectMessage(conn, ctx, 'ready');
          await conn.sendData(p.body);
          await expectError(conn, ctx, 'ERR_SIZE_MISMATCH', { id: p.id, fatal: false });
          await conn.sendData(Buffer.from('ignored'));
          await conn.send({ type: 'file_end', id: p.id, bytes: p.body.length + 7, sha256: sha256Hex(p.body) });
          await pingPong(conn, ctx, 'the file_end after the error is not answered');
        }),
    },
    {
      id: '4.7.2',
      title: 'after such an error a cancel ends the put, unanswered, and the next put is taken',
      spec: SKIPS,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('over-cancel');
          await conn.send({ type: 'put_file', id, name: 'over.txt', size: 1 });
          await expectMessage(conn, ctx, 'ready');
          await conn.sendData(Buffer.from('too much'));
          await expectError(conn, ctx, 'ERR_SIZE_MISMATCH', { id, fatal: false });
          await conn.send({ type: 'cancel', id });
          await pingPong(conn, ctx, 'the cancel is not answered');
          await putFile(conn, ctx, { id: ctx.ids.next('after'), name: 'after.txt', body: body('after the cancel') });
        }),
    },
    {
      id: '4.7.3',
      title: 'more bytes than maxFileBytes without a size: ERR_FILE_TOO_LARGE at once',
      spec: CODES,
      run: async (ctx) => {
        const max = ctx.welcome.limits.maxFileBytes;
        canSend(ctx, max + 1, 'going past maxFileBytes');
        await withSession(ctx, async (conn) => {
          const id = ctx.ids.next('past-max');
          await conn.send({ type: 'put_file', id, name: 'past-max.bin' });
          await expectMessage(conn, ctx, 'ready');
          const frame = Math.max(1, Math.min(ctx.welcome.limits.maxFrameBytes, 256 * 1024));
          await sendBytes(conn, max + 1, [frame]);
          await expectError(conn, ctx, 'ERR_FILE_TOO_LARGE', { id, fatal: false });
          await conn.send({ type: 'cancel', id });
          await pingPong(conn, ctx, 'after the cancel');
        });
      },
    },
    {
      id: '4.7.4',
      title: 'a size of maxFileBytes and one frame crossing both it and maxFileBytes: ERR_SIZE_MISMATCH',
      spec: `${CODES} ${NEVER_DEPENDS}`,
      run: (ctx) =>
        overrunAtMax(ctx, (max, frame) => {
          // Frames up to 10 bytes before the end, then one frame carrying the last 10 bytes and the byte too many.
          const before = max - 10;
          const sizes = Array<number>(Math.floor(before / frame)).fill(frame);
          if (before % frame > 0) sizes.push(before % frame);
          return [...sizes, 11];
        }),
    },
    {
      id: '4.7.5',
      title: 'the same overrun with the byte too many alone in its frame: ERR_SIZE_MISMATCH again',
      spec: NEVER_DEPENDS,
      run: (ctx) =>
        overrunAtMax(ctx, (max, frame) => {
          const sizes = Array<number>(Math.floor(max / frame)).fill(frame);
          if (max % frame > 0) sizes.push(max % frame);
          return [...sizes, 1];
        }),
    },
  ],
};
