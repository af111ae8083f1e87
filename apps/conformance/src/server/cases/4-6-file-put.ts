/**
 * docs/PROTOCOL.md §4, "File put": put_file answered by the first of its numbered checks that applies (the first
 * receipt, a refusal with the put's id, or ready), the data and file_end checked in order (count, declared size,
 * SHA-256), cancel, and nothing stored when a put does not end well. Data past the size is part 4.7 ("Too many
 * bytes"), the declared encryption 4.8, names 4.9, a stored id 4.10.
 */
import type { Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError, expectMessage, expectReceipt, sha256Hex } from '../expect';
import { fileNotStored, finishFile, pingPong, putFile, startFile, withSession } from '../steps';

const body = (text: string): Buffer => Buffer.from(`${text}\n`, 'utf8');
const AT_FILE_END =
  'At `file_end` it checks, in this order, the byte count (`ERR_SIZE_MISMATCH` when it differs from `file_end.bytes` or from the declared `size`), the SHA-256 (`ERR_CHECKSUM_MISMATCH`)';
const FIRST_THAT_APPLIES = 'The server takes the first that applies:';

export const filePut: Section<ServerContext> = {
  id: '4.6',
  title: 'File put',
  cases: [
    {
      id: '4.6.1',
      title: 'put_file with its size, ready at offset 0, data, file_end: the receipt',
      spec: 'otherwise, once it has memory for the first write: `ready` with the offset to send from (0 unless the put resumes: Resuming, below). … After `ready`, the client sends the file as data frames (any sizes up to `maxFrameBytes`; 256 KiB is a good choice), then `file_end`.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await putFile(conn, ctx, { id: ctx.ids.next('file'), name: 'sized.txt', body: body('a file with its size') });
        }),
    },
    {
      id: '4.6.2',
      title: 'put_file without a size, in frames of 1, 0 and 7 bytes: the receipt',
      spec: '`size` int (optional) … data frames (any sizes up to `maxFrameBytes`',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const p = {
            id: ctx.ids.next('file'),
            name: 'unsized.txt',
            body: body('no size declared'),
            declareSize: false,
            pieces: [1, 0, 7],
          };
          await putFile(conn, ctx, p);
        }),
    },
    {
      id: '4.6.3',
      title: 'an empty file: ready, no data, file_end: the receipt of 0 bytes',
      spec: '`file_end` | `id` id; `bytes` int; `sha256` sha256',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await putFile(conn, ctx, { id: ctx.ids.next('empty'), name: 'empty.txt', body: Buffer.alloc(0) });
        }),
    },
    {
      id: '4.6.4',
      title: 'put_file for a stored id: the first receipt at once (no ready), and the session goes on',
      spec: 'the id is stored: its first `receipt`, with `duplicate: true` (Idempotency, below); the client sends nothing more for this put',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const p = { id: ctx.ids.next('file-twice'), name: 'twice.txt', body: body('twice') };
          const first = await putFile(conn, ctx, p);
          await conn.send({ type: 'put_file', id: p.id, name: p.name, size: p.body.length });
          await expectReceipt(conn, ctx, { id: p.id, kind: 'file', body: p.body, duplicate: true, first });
          await pingPong(conn, ctx, 'after the duplicate');
        }),
    },
    {
      id: '4.6.5',
      title: 'a size over maxFileBytes is ERR_FILE_TOO_LARGE for the put, and the session goes on',
      spec: "a `size` over `maxFileBytes`: `ERR_FILE_TOO_LARGE`, before any byte moves; … Its errors carry the put's `id` and are not fatal.",
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('huge');
          await conn.send({ type: 'put_file', id, name: 'huge.bin', size: ctx.welcome.limits.maxFileBytes + 1 });
          await expectError(conn, ctx, 'ERR_FILE_TOO_LARGE', { id, fatal: false });
          await pingPong(conn, ctx, 'after the refusal');
        }),
    },
    {
      id: '4.6.6',
      title: 'an offset and a size over maxFileBytes: ERR_OFFSET; a size over it and a name .. : ERR_FILE_TOO_LARGE',
      spec: `${FIRST_THAT_APPLIES} … an \`offset\` other than 0: \`ERR_OFFSET\` (a put resumes by asking with \`resume\`, never by naming an offset); … a \`size\` over \`maxFileBytes\`: \`ERR_FILE_TOO_LARGE\`, before any byte moves; … a \`name\` that cleans to nothing: \`ERR_NAME_INVALID\``,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const size = ctx.welcome.limits.maxFileBytes + 1;
          const a = ctx.ids.next('first-check');
          await conn.send({ type: 'put_file', id: a, name: '..', size, offset: 5 });
          await expectError(conn, ctx, 'ERR_OFFSET', { id: a, fatal: false });
          const b = ctx.ids.next('first-check');
          await conn.send({ type: 'put_file', id: b, name: '..', size });
          await expectError(conn, ctx, 'ERR_FILE_TOO_LARGE', { id: b, fatal: false });
        }),
    },
    {
      id: '4.6.7',
      title: 'file_end with another count than the data sent is ERR_SIZE_MISMATCH for the put; nothing stored',
      spec: AT_FILE_END,
      run: async (ctx) => {
        const p = { id: ctx.ids.next('count'), name: 'count.txt', body: body('count'), declareSize: false };
        await withSession(ctx, async (conn) => {
          await startFile(conn, ctx, p);
          await finishFile(conn, ctx, p, { bytes: p.body.length + 1 });
          await expectError(conn, ctx, 'ERR_SIZE_MISMATCH', { id: p.id, fatal: false });
          await pingPong(conn, ctx, 'after the refusal');
        });
        await fileNotStored(ctx, p.id);
      },
    },
    {
      id: '4.6.8',
      title: 'fewer bytes than the declared size is ERR_SIZE_MISMATCH for the put',
      spec: AT_FILE_END,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const p = { id: ctx.ids.next('short'), name: 'short.txt', body: body('shorter than said') };
          await conn.send({ type: 'put_file', id: p.id, name: p.name, size: p.body.length + 10 });
          await expectMessage(conn, ctx, 'ready');
          await finishFile(conn, ctx, p);
          await expectError(conn, ctx, 'ERR_SIZE_MISMATCH', { id: p.id, fatal: false });
        }),
    },
    {
      id: '4.6.9',
      title: 'a wrong SHA-256 is ERR_CHECKSUM_MISMATCH for the put; nothing stored',
      spec: AT_FILE_END,
      run: async (ctx) => {
        const p = { id: ctx.ids.next('sum'), name: 'sum.txt', body: body('checksum') };
        await withSession(ctx, async (conn) => {
          await startFile(conn, ctx, p);
          await finishFile(conn, ctx, p, { sha256: sha256Hex(Buffer.from('something else')) });
          await expectError(conn, ctx, 'ERR_CHECKSUM_MISMATCH', { id: p.id, fatal: false });
        });
        await fileNotStored(ctx, p.id);
      },
    },
    {
      id: '4.6.10',
      title: 'a wrong count and a wrong SHA-256 together: ERR_SIZE_MISMATCH (the count is checked first)',
      spec: AT_FILE_END,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const p = { id: ctx.ids.next('both'), name: 'both.txt', body: body('both wrong'), declareSize: false };
          await startFile(conn, ctx, p);
          await finishFile(conn, ctx, p, { bytes: p.body.length - 1, sha256: sha256Hex(Buffer.from('other')) });
          await expectError(conn, ctx, 'ERR_SIZE_MISMATCH', { id: p.id, fatal: false });
        }),
    },
    {
      id: '4.6.11',
      title: 'cancel in the middle of a put is not answered; nothing is stored',
      spec: 'A client may `cancel` its file put at any time; the server discards what it got and does not answer.',
      run: async (ctx) => {
        const p = { id: ctx.ids.next('cancel'), name: 'cancel.txt', body: body('cancelled') };
        await withSession(ctx, async (conn) => {
          await startFile(conn, ctx, p);
          await conn.sendData(p.body.subarray(0, 3));
          await conn.send({ type: 'cancel', id: p.id });
          await pingPong(conn, ctx, 'the cancel is not answered');
        });
        await fileNotStored(ctx, p.id);
      },
    },
    {
      id: '4.6.12',
      title: 'a connection closed in the middle of a file leaves nothing stored',
      spec: 'A connection that closes during a put leaves nothing stored.',
      run: async (ctx) => {
        const p = { id: ctx.ids.next('cut-file'), name: 'cut.txt', body: body('cut in the middle') };
        await withSession(ctx, async (conn) => {
          await startFile(conn, ctx, p);
          await conn.sendData(p.body.subarray(0, 5));
          // A put_file's ready was read: the data is on its way before the close.
          await new Promise((r) => setTimeout(r, 50));
        });
        await fileNotStored(ctx, p.id);
      },
    },
  ],
};
