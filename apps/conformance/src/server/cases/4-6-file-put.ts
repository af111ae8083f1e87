/**
 * docs/PROTOCOL.md §4, file put: put_file answered by ready (or the first receipt, or a refusal with the put's
 * id), the data and file_end checked (count, declared size, SHA-256), a put failed mid-stream whose data is then
 * ignored until its file_end or cancel, cancel, and nothing stored when a put does not end well.
 */
import type { Section } from '../../case';
import { canSend, type ServerContext } from '../context';
import { expectError, expectMessage, expectReceipt, sha256Hex } from '../expect';
import { fileNotStored, finishFile, pingPong, putFile, startFile, withSession } from '../steps';

const body = (text: string): Buffer => Buffer.from(`${text}\n`, 'utf8');
const FAILED =
  "If the server fails the put while data is still coming (more bytes than `maxFileBytes` or than the declared `size`, a storage error), it sends `error` with the put's id at once, discards the temporary file, and then ignores data frames until the client's `file_end` or `cancel` for that id, which it does not answer.";

export const filePut: Section<ServerContext> = {
  id: '4.4',
  title: 'File put',
  cases: [
    {
      id: '4.4.1',
      title: 'put_file with its size, ready at offset 0, data, file_end: the receipt',
      spec: '`ready` with the offset to send from (0 in version 1). After `ready`, the client sends the file as data frames …, then `file_end`.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await putFile(conn, ctx, { id: ctx.ids.next('file'), name: 'sized.txt', body: body('a file with its size') });
        }),
    },
    {
      id: '4.4.2',
      title: 'put_file without a size, in frames of 1, 0 and 7 bytes: the receipt',
      spec: '`size` int (optional) … data frames (any sizes up to `maxFrameBytes`…)',
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
      id: '4.4.3',
      title: 'an empty file: ready, no data, file_end: the receipt of 0 bytes',
      spec: '`file_end` | `id` id; `bytes` int; `sha256` sha256',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await putFile(conn, ctx, { id: ctx.ids.next('empty'), name: 'empty.txt', body: Buffer.alloc(0) });
        }),
    },
    {
      id: '4.4.4',
      title: 'put_file for a stored id: the first receipt at once (no ready), and the session goes on',
      spec: '`receipt` with `duplicate: true` when it already holds this id: the client sends nothing more for this put',
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
      id: '4.4.5',
      title: 'a size over maxFileBytes is ERR_FILE_TOO_LARGE for the put, and the session goes on',
      spec: "`error` with the put's id when it refuses: `size` over `maxFileBytes` (`ERR_FILE_TOO_LARGE`)",
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('huge');
          await conn.send({ type: 'put_file', id, name: 'huge.bin', size: ctx.welcome.limits.maxFileBytes + 1 });
          await expectError(conn, ctx, 'ERR_FILE_TOO_LARGE', { id, fatal: false });
          await pingPong(conn, ctx, 'after the refusal');
        }),
    },
    {
      id: '4.4.6',
      title: 'a name that cleans to nothing (.., /, ...) is ERR_NAME_INVALID for the put',
      spec: 'a name it cannot clean into a safe one (`ERR_NAME_INVALID`) … a file name that cleans to nothing',
      reconcile: 'issue #13 item 13: how a name is cleaned is in SERVER.md, not in the wire contract',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          for (const name of ['..', '/', '...', './/..']) {
            const id = ctx.ids.next('noname');
            await conn.send({ type: 'put_file', id, name, size: 1 });
            await expectError(conn, ctx, 'ERR_NAME_INVALID', { id, fatal: false });
          }
        }),
    },
    {
      id: '4.4.7',
      title: 'file_end with another count than the data sent is ERR_SIZE_MISMATCH for the put; nothing stored',
      spec: 'checks the byte count (`ERR_SIZE_MISMATCH` when it differs from `file_end.bytes` or from the declared `size`)',
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
      id: '4.4.8',
      title: 'fewer bytes than the declared size is ERR_SIZE_MISMATCH for the put',
      spec: 'checks the byte count (`ERR_SIZE_MISMATCH` when it differs from `file_end.bytes` or from the declared `size`)',
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
      id: '4.4.9',
      title: 'a wrong SHA-256 is ERR_CHECKSUM_MISMATCH for the put; nothing stored',
      spec: 'and the SHA-256 (`ERR_CHECKSUM_MISMATCH`)',
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
      id: '4.4.10',
      title: 'more bytes than the declared size: the error at once, then data and file_end ignored, unanswered',
      spec: FAILED,
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
      id: '4.4.11',
      title: 'after such an error a cancel ends the put, unanswered',
      spec: FAILED,
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
      id: '4.4.12',
      title: 'more bytes than maxFileBytes without a size: ERR_FILE_TOO_LARGE at once',
      spec: FAILED,
      run: async (ctx) => {
        const max = ctx.welcome.limits.maxFileBytes;
        canSend(ctx, max + 1, 'going past maxFileBytes');
        await withSession(ctx, async (conn) => {
          const id = ctx.ids.next('past-max');
          await conn.send({ type: 'put_file', id, name: 'past-max.bin' });
          await expectMessage(conn, ctx, 'ready');
          const frame = Math.max(1, Math.min(ctx.welcome.limits.maxFrameBytes, 256 * 1024));
          const chunk = Buffer.alloc(frame, 0x61);
          for (let sent = 0; sent <= max; sent += chunk.length) {
            await conn.sendData(chunk.subarray(0, Math.min(chunk.length, max + 1 - sent)));
          }
          await expectError(conn, ctx, 'ERR_FILE_TOO_LARGE', { id, fatal: false });
          await conn.send({ type: 'cancel', id });
          await pingPong(conn, ctx, 'after the cancel');
        });
      },
    },
    {
      id: '4.4.13',
      title: 'cancel in the middle of a put is not answered; nothing is stored',
      spec: 'A client may `cancel` a put at any time; the server discards what it got.',
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
      id: '4.4.14',
      title: 'a cancel for another id during a put is ignored: the put completes',
      spec: 'A `cancel` when no put is in progress, or for another id, is ignored.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const p = { id: ctx.ids.next('kept'), name: 'kept.txt', body: body('kept') };
          await startFile(conn, ctx, p);
          await conn.send({ type: 'cancel', id: ctx.ids.next('other') });
          await finishFile(conn, ctx, p);
          await expectReceipt(conn, ctx, { id: p.id, kind: 'file', body: p.body, duplicate: false });
        }),
    },
    {
      id: '4.4.15',
      title: 'a cancel with no put in progress is ignored',
      spec: 'A `cancel` when no put is in progress, or for another id, is ignored.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await conn.send({ type: 'cancel', id: ctx.ids.next('nothing') });
          await pingPong(conn, ctx, 'the cancel is not answered');
        }),
    },
    {
      id: '4.4.16',
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
