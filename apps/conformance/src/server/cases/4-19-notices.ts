/**
 * docs/PROTOCOL.md §4, "Notices": on a connection that negotiated `pending-notice`, a put that waits for the
 * operator is preceded by a `PENDING_APPROVAL` notice with its id and `timeoutMs`, and its answer comes within that
 * time; a connection that did not negotiate it never gets a notice. The cases need a server that asks an operator
 * (ours: `--ask`); against one that does not list `pending-notice`, the first case still runs and the second skips.
 * Nobody is expected to answer the operator's question: the answer is the receipt or ERR_REJECTED, either will do.
 */
import { NOTICE_PENDING_APPROVAL, PENDING_NOTICE_CAPABILITY, type ServerMessage } from '@proj/protocol/wire';
import { check, Failure, show, Skip, type Section } from '../../case';
import { canWait, type ServerContext } from '../context';
import type { RawConnection } from '../raw-connection';
import { hello, jsonDict, open, sendDict } from '../steps';

/** A connection whose hello lists `capabilities`, past its welcome; the welcome's capabilities. */
async function connectAsking(
  ctx: ServerContext,
  capabilities: readonly string[],
): Promise<{ conn: RawConnection; supported: readonly string[] }> {
  const conn = await open(ctx);
  try {
    if (capabilities.length > 0) conn.ignoreUnknownFields();
    await conn.send(hello(ctx, { capabilities }));
    const answer = await conn.next(ctx.target.answerMs, 'the welcome');
    if (answer.type === 'end' || answer.message.type !== 'welcome') {
      throw new Failure(`expected the welcome, got ${answer.type === 'end' ? 'the end' : show(answer.message)}`);
    }
    return { conn, supported: answer.message.capabilities ?? [] };
  } catch (err) {
    conn.destroy();
    throw err;
  }
}

/** The messages about put `id` up to its answer (a receipt or an error), waiting at most `waitMs` for each. */
async function messagesUntilAnswer(conn: RawConnection, id: string, waitMs: number): Promise<ServerMessage[]> {
  const seen: ServerMessage[] = [];
  for (;;) {
    const next = await conn.next(waitMs, `the answer to put ${id}`);
    if (next.type === 'end') throw new Failure(`the server closed the connection before answering put ${id}`);
    seen.push(next.message);
    if (next.message.type === 'receipt' || next.message.type === 'error') return seen;
  }
}

/** The answer must name the put, and be a receipt or ERR_REJECTED (the operator's decision either way). */
function checkAnswer(answer: ServerMessage | undefined, id: string): void {
  check(
    (answer?.type === 'receipt' && answer.id === id) ||
      (answer?.type === 'error' && answer.code === 'ERR_REJECTED' && answer.id === id),
    () => `the answer to put ${id} is its receipt or ERR_REJECTED, got ${show(answer)}`,
  );
}

export const notices: Section<ServerContext> = {
  id: '4.19',
  title: 'Notices',
  cases: [
    {
      id: '4.19.1',
      title: 'a connection that did not negotiate pending-notice gets no notice, only the answer',
      spec: 'A server sends `notice` only on a connection that negotiated `pending-notice`',
      run: async (ctx) => {
        const { conn } = await connectAsking(ctx, []);
        try {
          const id = ctx.ids.next('no-notice');
          await sendDict(conn, ctx, { id, format: 'json', body: jsonDict('no-notice') });
          // The operator may take a while: as long as a notice would have announced, at most --max-wait.
          const seen = await messagesUntilAnswer(conn, id, ctx.target.maxWaitMs);
          check(
            seen.length === 1,
            () => `a put on a connection without pending-notice gets its answer only, got ${show(seen)}`,
          );
          checkAnswer(seen[0], id);
        } finally {
          conn.destroy();
        }
      },
    },
    {
      id: '4.19.2',
      title: 'with pending-notice negotiated, a put that waits for the operator gets PENDING_APPROVAL, then its answer',
      spec: '`PENDING_APPROVAL`: the operator decides about the put (step 3 of a dictionary put, step 6 of a file put). The server sends it before it starts waiting for the operator, at most once per put, with `timeoutMs`',
      run: async (ctx) => {
        const { conn, supported } = await connectAsking(ctx, [PENDING_NOTICE_CAPABILITY]);
        try {
          if (!supported.includes(PENDING_NOTICE_CAPABILITY)) {
            throw new Skip('the server does not list pending-notice (ours lists it with --ask)');
          }
          const id = ctx.ids.next('notice');
          await sendDict(conn, ctx, { id, format: 'json', body: jsonDict('notice') });
          const first = await conn.next(ctx.target.answerMs, `a notice for put ${id}`);
          if (first.type === 'end') throw new Failure('the server closed the connection instead of a notice');
          const notice = first.message;
          check(
            notice.type === 'notice' &&
              notice.id === id &&
              notice.code === NOTICE_PENDING_APPROVAL &&
              notice.timeoutMs !== undefined,
            () => `expected a PENDING_APPROVAL notice for ${id} with timeoutMs, got ${show(notice)}`,
          );
          const timeoutMs = notice.timeoutMs as number;
          canWait(ctx, timeoutMs, 'the operator’s time');
          const rest = await messagesUntilAnswer(conn, id, timeoutMs + ctx.target.answerMs);
          check(
            rest.every((m) => m.type !== 'notice' || m.code !== NOTICE_PENDING_APPROVAL),
            () => `PENDING_APPROVAL comes at most once per put, got ${show(rest)}`,
          );
          checkAnswer(rest.at(-1), id);
        } finally {
          conn.destroy();
        }
      },
    },
  ],
};
