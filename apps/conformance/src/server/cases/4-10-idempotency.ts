/**
 * docs/PROTOCOL.md §4, "Idempotency": a put id names an item. A put under an id that has a receipt gets that
 * receipt again, `duplicate: true`, on any connection, whatever it holds and of either kind: nothing of the new
 * put is decoded or checked (not its body, name, size, offset or encryption). Only a dictionary's `bytes` over
 * maxDictBytes comes first. Two puts of one id racing on two connections store one item.
 */
import { encodeControlFrame, encodeFrameHeader, FrameKind, type Receipt } from '@proj/protocol/wire';
import { check, show, type Section } from '../../case';
import type { ServerContext } from '../context';
import { checkReceipt, expectError, expectMessage } from '../expect';
import type { RawConnection } from '../raw-connection';
import { hello, jsonDict, open, pingPong, putDict, putFile, sendDict, withSession } from '../steps';

const FIRST =
  "When a put's id already has a receipt (from a put on this connection or another, of either kind, before a restart or after), the server answers with that receipt, `duplicate: true`, and stores nothing, without decoding or checking what the new put holds: its format, body, name, size, offset and encryption are not compared with the first.";
const WHATEVER =
  'The first answer is the answer: a retry after a lost connection gets the same receipt whatever it sends, even what would now be refused';

/** The next answer must repeat `first` with `duplicate: true`. */
async function expectFirstAgain(conn: RawConnection, ctx: ServerContext, first: Receipt, what: string): Promise<void> {
  const again = await expectMessage(conn, ctx, 'receipt', `the first receipt of ${first.id} (${what})`);
  const same = (['id', 'kind', 'path', 'bytes', 'sha256', 'format', 'encrypted', 'receivedAt'] as const).every(
    (key) => again[key] === first[key],
  );
  check(
    again.duplicate && same,
    () => `${what}: expected the first receipt again, duplicate: true, got ${show(again)}`,
  );
}

/** A dictionary stored on a connection of its own: its receipt. */
const storedDict = (ctx: ServerContext, tag: string): Promise<Receipt> =>
  withSession(ctx, (conn) => putDict(conn, ctx, { id: ctx.ids.next('stored'), format: 'json', body: jsonDict(tag) }));

/** A put_file under a stored id, with `fields` that would be refused: the first receipt at once, no ready. */
const fileUnderStored = (id: string, title: string, fields: (ctx: ServerContext) => Record<string, unknown>) => ({
  id,
  title,
  spec: `${FIRST} … ${WHATEVER}`,
  run: async (ctx: ServerContext) => {
    const first = await storedDict(ctx, title);
    await withSession(ctx, async (conn) => {
      await conn.send({ type: 'put_file', id: first.id, name: 'again.txt', ...fields(ctx) });
      await expectFirstAgain(conn, ctx, first, title);
      await pingPong(conn, ctx, 'after the duplicate');
    });
  },
});

export const idempotency: Section<ServerContext> = {
  id: '4.10',
  title: 'Idempotency',
  cases: [
    {
      id: '4.10.1',
      title: 'a put id stored before gets the first receipt again, duplicate: true',
      spec: FIRST,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const p = { id: ctx.ids.next('twice'), format: 'json' as const, body: jsonDict('twice') };
          const first = await putDict(conn, ctx, p);
          await putDict(conn, ctx, p, true, first);
        }),
    },
    {
      id: '4.10.2',
      title: 'a retry on a new connection gets the first receipt again, duplicate: true',
      spec: 'a put repeated with the same id (a retry after a lost connection) gets the first receipt again, with `duplicate: true`, and nothing new is stored.',
      run: async (ctx) => {
        const p = { id: ctx.ids.next('retry'), format: 'json' as const, body: jsonDict('retry') };
        const first = await withSession(ctx, (conn) => putDict(conn, ctx, p));
        await withSession(ctx, (conn) => putDict(conn, ctx, p, true, first));
      },
    },
    {
      id: '4.10.3',
      title: 'a stored id sent again with another body gets the first receipt (which does not match the new body)',
      spec: `${FIRST} … A client that reuses an id for other content learns it from the receipt, whose \`bytes\` and \`sha256\` are the first item's`,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('other-body');
          const first = await putDict(conn, ctx, { id, format: 'json', body: jsonDict('first body') });
          await sendDict(conn, ctx, { id, format: 'json', body: jsonDict('another body, longer than the first') });
          await expectFirstAgain(conn, ctx, first, 'another body');
        }),
    },
    {
      id: '4.10.4',
      title: 'a stored id sent again with a body that does not decode, in another format: the first receipt',
      spec: `${FIRST} … ${WHATEVER} (a body that does not decode`,
      run: async (ctx) => {
        const first = await storedDict(ctx, 'undecodable retry');
        await withSession(ctx, async (conn) => {
          await sendDict(conn, ctx, { id: first.id, format: 'xml', body: Buffer.from('<dict><oops') });
          await expectFirstAgain(conn, ctx, first, 'a body that does not decode');
        });
      },
    },
    fileUnderStored('4.10.5', 'a file put under a dictionary id: the dictionary receipt', () => ({ size: 3 })),
    fileUnderStored('4.10.6', 'a file put under a stored id with offset 7: the receipt, not ERR_OFFSET', () => ({
      offset: 7,
    })),
    fileUnderStored(
      '4.10.7',
      'a file put under a stored id with a size over maxFileBytes, the name .. and encryption age: the receipt',
      (ctx) => ({ name: '..', size: ctx.welcome.limits.maxFileBytes + 1, encryption: 'age' }),
    ),
    {
      id: '4.10.8',
      title: 'a dictionary put under a file id: the file receipt',
      spec: FIRST,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const p = { id: ctx.ids.next('file-first'), name: 'first.txt', body: Buffer.from('the first item\n') };
          const first = await putFile(conn, ctx, p);
          await sendDict(conn, ctx, { id: p.id, format: 'json', body: jsonDict('a dictionary under a file id') });
          await expectFirstAgain(conn, ctx, first, 'a dictionary under a file id');
        }),
    },
    {
      id: '4.10.9',
      title: 'a stored id sent again with bytes over maxDictBytes: ERR_DICT_TOO_LARGE (fatal), decided first',
      spec: 'Only what the server must decide before it can read the put comes first: shutdown (`ERR_SHUTTING_DOWN`; a later retry gets the receipt) and, for a dictionary, a `bytes` over `maxDictBytes` (fatal, step 1).',
      run: async (ctx) => {
        const first = await storedDict(ctx, 'too large retry');
        await withSession(ctx, async (conn) => {
          const bytes = ctx.welcome.limits.maxDictBytes + 1;
          await conn.send({ type: 'put_dict', id: first.id, format: 'json', bytes });
          await expectError(conn, ctx, 'ERR_DICT_TOO_LARGE', { fatal: true });
        });
      },
    },
    {
      id: '4.10.10',
      title: 'one dictionary id put on two connections at once: one receipt, and the same receipt duplicate: true',
      spec: 'When two puts of one id race on two connections, one item is stored and the other put is answered with its receipt, `duplicate: true`.',
      run: async (ctx) => {
        const id = ctx.ids.next('race');
        const body = jsonDict('race');
        const frames = Buffer.concat([
          encodeControlFrame({ type: 'put_dict', id, format: 'json', bytes: body.length }),
          encodeFrameHeader(FrameKind.Data, body.length),
          body,
        ]);
        const conns: RawConnection[] = [];
        try {
          for (let i = 0; i < 2; i++) {
            const conn = await open(ctx);
            conns.push(conn);
            await conn.send(hello(ctx));
            await expectMessage(conn, ctx, 'welcome');
          }
          // Both puts written at once, each whole, so that both reach the server before either is stored.
          await Promise.all(conns.map((conn) => conn.write(frames)));
          const [a, b] = (await Promise.all(
            conns.map((conn) => expectMessage(conn, ctx, 'receipt', `the receipt of ${id}`)),
          )) as [Receipt, Receipt];
          const [fresh, dup] = a.duplicate ? [b, a] : [a, b];
          checkReceipt(fresh, { id, kind: 'dict', body, format: 'json', duplicate: false });
          checkReceipt(dup, { id, kind: 'dict', body, format: 'json', duplicate: true, first: fresh });
        } finally {
          for (const c of conns) c.destroy();
        }
      },
    },
  ],
};
