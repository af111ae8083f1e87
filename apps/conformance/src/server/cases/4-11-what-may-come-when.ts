/**
 * docs/PROTOCOL.md §4, "What may come when": the table of what each frame from the client does in each state of
 * a session, one case per cell (row by row, the columns in order: before the hello, between puts, a dictionary's
 * body, a file's body, skipping), each quoting its row; then frames sent before the answer to put_file, which are
 * handled in the state that answer leaves. Between puts, "this put" is a file put just refused (a cancel that
 * crossed the error); in a file's body, a put taken by `ready`; skipping, a put ended by ERR_SIZE_MISMATCH.
 */
import { encodeControlFrame, encodeFrameHeader, FrameKind } from '@proj/protocol/wire';
import { check, show, type Case, type Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError, expectMessage, expectReceipt, sha256Hex } from '../expect';
import type { RawConnection } from '../raw-connection';
import { fileNotStored, hello, jsonDict, open, pingPong, putDict, putFile, startFile } from '../steps';

type State = 'before' | 'between' | 'dict' | 'file' | 'skipping';
const STATES: readonly State[] = ['before', 'between', 'dict', 'file', 'skipping'];
const STATE_NAMES: Record<State, string> = {
  before: 'as the first frame (before the hello)',
  between: 'between puts',
  dict: "in a dictionary's body",
  file: "in a file's body",
  skipping: 'skipping',
};

/** A connection in a state, with the put it is in (or last refused): its id, its body and how much was sent. */
interface At {
  conn: RawConnection;
  state: State;
  id: string;
  body: Buffer;
  sent: number;
}

const U_IS = '*U* is `ERR_UNEXPECTED_MESSAGE`, fatal.';

async function enter(ctx: ServerContext, conn: RawConnection, state: State): Promise<At> {
  const id = ctx.ids.next(`table-${state}`);
  if (state !== 'before') {
    await conn.send(hello(ctx));
    await expectMessage(conn, ctx, 'welcome');
  }
  switch (state) {
    case 'before':
      return { conn, state, id, body: Buffer.alloc(0), sent: 0 };
    case 'between':
      await conn.send({ type: 'put_file', id, name: 'refused.txt', offset: 1 });
      await expectError(conn, ctx, 'ERR_OFFSET', { id, fatal: false });
      return { conn, state, id, body: Buffer.alloc(0), sent: 0 };
    case 'dict': {
      const body = jsonDict(`table ${id}`);
      await conn.send({ type: 'put_dict', id, format: 'json', bytes: body.length });
      await conn.sendData(body.subarray(0, 4));
      return { conn, state, id, body, sent: 4 };
    }
    case 'file': {
      const body = Buffer.from(`a file in the table, ${id}\n`);
      await startFile(conn, ctx, { id, name: 'table.txt', body });
      await conn.sendData(body.subarray(0, 3));
      return { conn, state, id, body, sent: 3 };
    }
    case 'skipping': {
      await conn.send({ type: 'put_file', id, name: 'skipped.txt', size: 1 });
      await expectMessage(conn, ctx, 'ready');
      await conn.sendData(Buffer.from('two or more bytes'));
      await expectError(conn, ctx, 'ERR_SIZE_MISMATCH', { id, fatal: false });
      return { conn, state, id, body: Buffer.alloc(0), sent: 0 };
    }
  }
}

/** The rest of the put in progress, and its receipt: proof that it went on. */
async function finish(ctx: ServerContext, at: At): Promise<void> {
  await at.conn.sendData(at.body.subarray(at.sent));
  if (at.state === 'dict') {
    await expectReceipt(at.conn, ctx, { id: at.id, kind: 'dict', body: at.body, format: 'json', duplicate: false });
    return;
  }
  await at.conn.send({ type: 'file_end', id: at.id, bytes: at.body.length, sha256: sha256Hex(at.body) });
  await expectReceipt(at.conn, ctx, { id: at.id, kind: 'file', body: at.body, duplicate: false });
}

/** No answer, and the session is between puts: a new dictionary put is stored. */
async function nowBetween(ctx: ServerContext, at: At, what: string): Promise<void> {
  await pingPong(at.conn, ctx, `${what} is not answered`);
  await putDict(at.conn, ctx, { id: ctx.ids.next('then'), format: 'json', body: jsonDict('then between puts') });
}

/** No answer, and the session still skips: a data frame is ignored too. */
async function stillSkipping(ctx: ServerContext, at: At, what: string): Promise<void> {
  await pingPong(at.conn, ctx, `${what} is not answered`);
  await at.conn.sendData(Buffer.from('still skipped'));
  await pingPong(at.conn, ctx, 'a data frame while skipping is ignored');
}

async function byeThenClose(ctx: ServerContext, at: At): Promise<void> {
  await at.conn.send({ type: 'bye' });
  await expectMessage(at.conn, ctx, 'bye');
  await at.conn.closed(ctx.target.answerMs, 'bye');
}

/** U, or what the cell says (for the case's title) and the check that the server does it. */
type Cell = 'U' | [says: string, run: (ctx: ServerContext, at: At) => Promise<void>];

interface Row {
  /** The row as PROTOCOL.md writes it. */
  text: string;
  what: string;
  /** The frame, for the cells that are U. */
  frame: (ctx: ServerContext, at: At) => Buffer;
  cells: Record<State, Cell>;
}

const control = (message: object): Buffer => encodeControlFrame(message);
const dataFrame = (payload: Buffer): Buffer =>
  Buffer.concat([encodeFrameHeader(FrameKind.Data, payload.length), payload]);
const EMPTY_SHA256 = sha256Hex(Buffer.alloc(0));

const ROWS: Row[] = [
  {
    text: '| `hello` | the handshake | U | U | U | U |',
    what: 'a hello',
    frame: (ctx) => control(hello(ctx)),
    cells: {
      before: [
        'the handshake, welcome',
        async (ctx, at) => {
          await at.conn.send(hello(ctx));
          await expectMessage(at.conn, ctx, 'welcome');
        },
      ],
      between: 'U',
      dict: 'U',
      file: 'U',
      skipping: 'U',
    },
  },
  {
    text: '| a data frame | U | U | the next bytes of the body (past `bytes`: `ERR_SIZE_MISMATCH`, fatal) | the next bytes of the file (Too many bytes) | ignored |',
    what: 'a data frame',
    frame: () => dataFrame(Buffer.from('stray')),
    cells: {
      before: 'U',
      between: 'U',
      dict: ['the next bytes of the body: the receipt', finish],
      file: ['the next bytes of the file: the receipt', finish],
      skipping: ['ignored', (ctx, at) => stillSkipping(ctx, at, 'a data frame')],
    },
  },
  {
    text: '| `put_dict`, `put_file` | U | starts a put | U | U | U |',
    what: 'a put',
    frame: (ctx, at) =>
      at.state === 'file'
        ? control({ type: 'put_dict', id: ctx.ids.next('inner'), format: 'json', bytes: 2 })
        : control({ type: 'put_file', id: ctx.ids.next('inner'), name: 'inner.txt' }),
    cells: {
      before: 'U',
      between: [
        'starts a put: ready, then the receipt',
        async (ctx, at) => {
          const p = { id: ctx.ids.next('started'), name: 'started.txt', body: Buffer.from('started\n') };
          await putFile(at.conn, ctx, p);
        },
      ],
      dict: 'U',
      file: 'U',
      skipping: 'U',
    },
  },
  {
    text: '| `file_end` for this put | U | U | U | ends the put: `receipt` or `error` | ends the skipping; no answer |',
    what: 'a file_end for this put',
    frame: (_ctx, at) => control({ type: 'file_end', id: at.id, bytes: at.body.length, sha256: sha256Hex(at.body) }),
    cells: {
      before: 'U',
      between: 'U',
      dict: 'U',
      file: ['ends the put: the receipt', finish],
      skipping: [
        'ends the skipping, unanswered',
        async (ctx, at) => {
          await at.conn.send({ type: 'file_end', id: at.id, bytes: 2, sha256: EMPTY_SHA256 });
          await nowBetween(ctx, at, 'the file_end');
        },
      ],
    },
  },
  {
    text: '| `file_end` for another id | U | U | U | U | U |',
    what: 'a file_end for another id',
    frame: (ctx) => control({ type: 'file_end', id: ctx.ids.next('other'), bytes: 0, sha256: EMPTY_SHA256 }),
    cells: { before: 'U', between: 'U', dict: 'U', file: 'U', skipping: 'U' },
  },
  {
    text: '| `cancel` for this put | U | ignored (no answer) | U | ends the put, nothing stored; no answer | ends the skipping; no answer |',
    what: 'a cancel for this put',
    frame: (_ctx, at) => control({ type: 'cancel', id: at.id }),
    cells: {
      before: 'U',
      between: [
        'ignored, unanswered',
        async (ctx, at) => {
          await at.conn.send({ type: 'cancel', id: at.id });
          await nowBetween(ctx, at, 'the cancel');
        },
      ],
      dict: 'U',
      file: [
        'ends the put, nothing stored, unanswered',
        async (ctx, at) => {
          await at.conn.send({ type: 'cancel', id: at.id });
          await nowBetween(ctx, at, 'the cancel');
          await fileNotStored(ctx, at.id);
        },
      ],
      skipping: [
        'ends the skipping, unanswered',
        async (ctx, at) => {
          await at.conn.send({ type: 'cancel', id: at.id });
          await nowBetween(ctx, at, 'the cancel');
        },
      ],
    },
  },
  {
    text: '| `cancel` for another id | U | ignored | U | ignored | ignored |',
    what: 'a cancel for another id',
    frame: (ctx) => control({ type: 'cancel', id: ctx.ids.next('other') }),
    cells: {
      before: 'U',
      between: [
        'ignored',
        async (ctx, at) => {
          await at.conn.send({ type: 'cancel', id: ctx.ids.next('other') });
          await nowBetween(ctx, at, 'the cancel');
        },
      ],
      dict: 'U',
      file: [
        'ignored: the put goes on to its receipt',
        async (ctx, at) => {
          await at.conn.send({ type: 'cancel', id: ctx.ids.next('other') });
          await pingPong(at.conn, ctx, 'the cancel is not answered');
          await finish(ctx, at);
        },
      ],
      skipping: [
        'ignored: still skipping',
        async (ctx, at) => {
          await at.conn.send({ type: 'cancel', id: ctx.ids.next('other') });
          await stillSkipping(ctx, at, 'the cancel');
        },
      ],
    },
  },
  {
    text: '| `ping` | U | `pong` | `pong` | `pong` | `pong` |',
    what: 'a ping',
    frame: () => control({ type: 'ping', nonce: 'early' }),
    cells: {
      before: 'U',
      between: ['pong', (ctx, at) => pingPong(at.conn, ctx, 'between puts')],
      dict: [
        'pong, and the put goes on to its receipt',
        async (ctx, at) => {
          await pingPong(at.conn, ctx, "in a dictionary's body");
          await finish(ctx, at);
        },
      ],
      file: [
        'pong, and the put goes on to its receipt',
        async (ctx, at) => {
          await pingPong(at.conn, ctx, "in a file's body");
          await finish(ctx, at);
        },
      ],
      skipping: ['pong, still skipping', (ctx, at) => stillSkipping(ctx, at, 'a ping')],
    },
  },
  {
    text: '| `bye` | U | `bye`, then close | U | the put is abandoned (nothing stored); `bye`, then close | `bye`, then close |',
    what: 'a bye',
    frame: () => control({ type: 'bye' }),
    cells: {
      before: 'U',
      between: ['bye, then the close', byeThenClose],
      dict: 'U',
      file: [
        'the put abandoned (nothing stored), bye, then the close',
        async (ctx, at) => {
          await byeThenClose(ctx, at);
          await fileNotStored(ctx, at.id);
        },
      ],
      skipping: ['bye, then the close', byeThenClose],
    },
  },
];

function cellCase(row: Row, state: State, n: number): Case<ServerContext> {
  const cell = row.cells[state];
  return {
    id: `4.11.${n}`,
    title: `${row.what} ${STATE_NAMES[state]}: ${cell === 'U' ? 'ERR_UNEXPECTED_MESSAGE (fatal)' : cell[0]}`,
    spec: cell === 'U' ? `${U_IS} … ${row.text}` : row.text,
    run: async (ctx) => {
      const conn = await open(ctx);
      try {
        const at = await enter(ctx, conn, state);
        if (cell !== 'U') return await cell[1](ctx, at);
        await conn.write(row.frame(ctx, at));
        await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
      } finally {
        conn.destroy();
      }
    },
  };
}

const BEFORE_READY =
  "Frames sent before the answer to `put_file` are handled in the state that answer leaves: after `ready`, the file's body; after an error or a duplicate receipt, between puts, where a data frame or a `file_end` is U.";

/** put_file and, in the same write, `after` for it: the answer `first`, then what `after` does between puts. */
function beforeTheAnswer(
  n: number,
  title: string,
  first: 'refused' | 'duplicate',
  after: (id: string) => Buffer,
): Case<ServerContext> {
  return {
    id: `4.11.${n}`,
    title,
    spec: BEFORE_READY,
    run: async (ctx) => {
      const conn = await open(ctx);
      try {
        await conn.send(hello(ctx));
        await expectMessage(conn, ctx, 'welcome');
        const id = ctx.ids.next('before-answer');
        let put: object = { type: 'put_file', id, name: 'early.txt', offset: 2 };
        if (first === 'duplicate') {
          await putDict(conn, ctx, { id, format: 'json', body: jsonDict('stored first') });
          put = { type: 'put_file', id, name: 'early.txt' };
        }
        await conn.write(Buffer.concat([control(put), after(id)]));
        const answer = await expectMessage(conn, ctx, first === 'refused' ? 'error' : 'receipt', `the answer to ${id}`);
        check(answer.id === id, () => `expected the answer to put_file ${id}, got ${show(answer)}`);
        await expectError(conn, ctx, 'ERR_UNEXPECTED_MESSAGE', { fatal: true });
      } finally {
        conn.destroy();
      }
    },
  };
}

const cells = ROWS.flatMap((row, r) => STATES.map((state, s) => cellCase(row, state, r * STATES.length + s + 1)));
const next = cells.length + 1;

export const whatMayComeWhen: Section<ServerContext> = {
  id: '4.11',
  title: 'What may come when',
  cases: [
    ...cells,
    beforeTheAnswer(
      next,
      'put_file refused (ERR_OFFSET) with data written after it: the error, then U',
      'refused',
      () => dataFrame(Buffer.from('data before the answer')),
    ),
    beforeTheAnswer(next + 1, 'put_file refused with file_end written after it: the error, then U', 'refused', (id) =>
      control({ type: 'file_end', id, bytes: 0, sha256: EMPTY_SHA256 }),
    ),
    beforeTheAnswer(
      next + 2,
      'put_file of a stored id with data written after it: the duplicate receipt, then U',
      'duplicate',
      () => dataFrame(Buffer.from('data before the answer')),
    ),
  ],
};
