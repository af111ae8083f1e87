/**
 * Client mode, docs/PROTOCOL.md §4 Session, paragraph by paragraph numbered as in the server cases (4.1 Handshake,
 * 4.5 Dictionary put, 4.6 File put, 4.7 Too many bytes, 4.18 No answer): how a client takes a refusal, a
 * duplicate, an error in the middle of a file, and a connection that closes before the answer.
 */
import { check, show, type Case, type Section } from '../../case';
import {
  dictJob,
  expectAcknowledged,
  expectFailed,
  fileJob,
  putsSent,
  scenario,
  welcomeWith,
  type ClientContext,
  type Outcome,
} from '../context';

/** A put the connection lost may fail, or be sent again under the same id (then it is acknowledged). */
function failedOrRetried(o: Outcome): void {
  const puts = putsSent(o);
  const ids = new Set(puts.map((p) => p.id));
  check(ids.size === 1, () => `a retry sends the put under the same id (§1), got ids ${show([...ids])}`);
  if (o.connections.length > 1) expectAcknowledged(o);
  else expectFailed(o, 'ERR_CONNECTION_CLOSED');
}

const handshake: Case<ClientContext>[] = [
  {
    id: '4.1.1',
    title: 'a hello refused with ERR_VERSION (supported: [1]) fails the client',
    spec: 'When it is an *int* the server does not speak (`0` included), the answer is `ERR_VERSION` with `supported`',
    run: async (ctx) => {
      const job = await dictJob(ctx, { refused: 'version' });
      const o = await scenario(ctx, { handshakeError: 'ERR_VERSION' }, (port) =>
        ctx.driver.sendDict('127.0.0.1', port, job),
      );
      expectFailed(o, 'ERR_VERSION');
    },
  },
  {
    id: '4.1.2',
    title: 'a hello refused with ERR_AUTH fails the client',
    spec: 'The token: `ERR_AUTH` when the server requires one and the hello has none or the wrong one',
    run: async (ctx) => {
      const job = await dictJob(ctx, { refused: 'auth' });
      const o = await scenario(ctx, { handshakeError: 'ERR_AUTH' }, (port) =>
        ctx.driver.sendDict('127.0.0.1', port, job),
      );
      expectFailed(o, 'ERR_AUTH');
    },
  },
];

const dictPut: Case<ClientContext>[] = [
  {
    id: '4.5.1',
    title: 'a dictionary refused with a non-fatal error fails the put',
    spec: "validates it (`ERR_DECODE`, `ERR_DICT_INVALID`, … These errors carry the put's `id` and are not fatal: the connection goes on.",
    run: async (ctx) => {
      const job = await dictJob(ctx, { refused: 'invalid' });
      const o = await scenario(ctx, { dict: () => ({ error: 'ERR_DICT_INVALID' }) }, (port) =>
        ctx.driver.sendDict('127.0.0.1', port, job),
      );
      expectFailed(o, 'ERR_DICT_INVALID');
    },
  },
  {
    id: '4.5.2',
    title: 'the first receipt again, with duplicate: true, acknowledges the put',
    spec: 'else the first receipt if the id is stored (Idempotency, below)',
    run: async (ctx) => {
      const job = await dictJob(ctx, { duplicate: true });
      expectAcknowledged(
        await scenario(ctx, { dict: () => 'duplicate' }, (port) => ctx.driver.sendDict('127.0.0.1', port, job)),
      );
    },
  },
  {
    id: '4.5.3',
    title: 'ERR_DICT_TOO_LARGE (fatal) fails the put',
    spec: 'at `put_dict`, refuses a `bytes` over `maxDictBytes` with `ERR_DICT_TOO_LARGE`, fatal',
    run: async (ctx) => {
      const job = await dictJob(ctx, { big: 'x'.repeat(300) });
      const o = await scenario(ctx, { dict: () => ({ error: 'ERR_DICT_TOO_LARGE', fatal: true }) }, (port) =>
        ctx.driver.sendDict('127.0.0.1', port, job),
      );
      expectFailed(o, 'ERR_DICT_TOO_LARGE');
    },
  },
  {
    id: '4.18.1',
    title: 'a connection closed before the answer: the put fails, or is sent again under the same id',
    spec: 'In every case a client that still wants the item sends the put again under the same id',
    run: async (ctx) => {
      const job = await dictJob(ctx, { lost: 'connection' });
      const o = await scenario(ctx, { dict: (_put, connection) => (connection === 0 ? 'close' : 'receipt') }, (port) =>
        ctx.driver.sendDict('127.0.0.1', port, job),
      );
      failedOrRetried(o);
    },
  },
];

const filePut: Case<ClientContext>[] = [
  {
    id: '4.6.1',
    title: 'a file put waits for ready, stays within maxFrameBytes, and ends with its true count and SHA-256',
    spec: 'The client sends `put_file` and should wait for the answer before it sends the body … After `ready`, the client sends the file as data frames (any sizes up to `maxFrameBytes`…), then `file_end`.',
    run: async (ctx) => {
      const { job } = await fileJob(ctx, 10_000);
      const o = await scenario(ctx, { welcome: welcomeWith(ctx, { maxFrameBytes: 1024 }), readyDelayMs: 300 }, (port) =>
        ctx.driver.sendFile('127.0.0.1', port, job),
      );
      expectAcknowledged(o);
    },
  },
  {
    id: '4.6.2',
    title: 'put_file answered by the first receipt (duplicate): nothing more is sent for it',
    spec: 'the id is stored: its first `receipt`, with `duplicate: true` (Idempotency, below); the client sends nothing more for this put',
    run: async (ctx) => {
      const { job, body } = await fileJob(ctx, 4000);
      const o = await scenario(ctx, { fileStart: () => ({ duplicateOf: body }) }, (port) =>
        ctx.driver.sendFile('127.0.0.1', port, job),
      );
      expectAcknowledged(o);
    },
  },
  {
    id: '4.6.3',
    title: 'put_file refused (ERR_FILE_TOO_LARGE): no data is sent, the put fails',
    spec: "a `size` over `maxFileBytes`: `ERR_FILE_TOO_LARGE`, before any byte moves; … Its errors carry the put's `id` and are not fatal.",
    run: async (ctx) => {
      const { job } = await fileJob(ctx, 4000);
      const o = await scenario(ctx, { fileStart: () => ({ error: 'ERR_FILE_TOO_LARGE' }) }, (port) =>
        ctx.driver.sendFile('127.0.0.1', port, job),
      );
      expectFailed(o, 'ERR_FILE_TOO_LARGE');
    },
  },
  {
    id: '4.7.1',
    title: 'an error while the file is sent: the client stops, ends the put, and fails',
    spec: 'A client that sees such an error stops sending and sends `cancel`.',
    run: async (ctx) => {
      const { job } = await fileJob(ctx, 4 * 1024 * 1024);
      const o = await scenario(
        ctx,
        { welcome: welcomeWith(ctx, { maxFrameBytes: 16 * 1024 }), fileMidError: 'ERR_STORAGE' },
        (port) => ctx.driver.sendFile('127.0.0.1', port, job),
      );
      expectFailed(o, 'ERR_STORAGE');
      const ends = o.connections[0]?.log.filter(
        (e) =>
          e.dir === 'in' &&
          e.frame.kind === 1 &&
          (e.frame.message?.type === 'cancel' || e.frame.message?.type === 'file_end'),
      );
      check(
        ends !== undefined && ends.length > 0,
        'after the error the client ends the put: cancel (or the file_end it had sent)',
      );
    },
  },
  {
    id: '4.18.2',
    title: "a connection closed before the file's receipt: the put fails, or is sent again under the same id",
    spec: 'A put gets no answer when the client cancelled it, when the connection closed first … In every case a client that still wants the item sends the put again under the same id',
    run: async (ctx) => {
      const { job } = await fileJob(ctx, 6000);
      const o = await scenario(ctx, { file: (_put, connection) => (connection === 0 ? 'close' : 'receipt') }, (port) =>
        ctx.driver.sendFile('127.0.0.1', port, job),
      );
      failedOrRetried(o);
    },
  },
];

/** The parts of §4 these cases belong to (its paragraphs with a bold name, numbered in order). */
const PARTS: readonly [id: string, title: string][] = [
  ['4.1', 'Handshake'],
  ['4.5', 'Dictionary put'],
  ['4.6', 'File put'],
  ['4.7', 'Too many bytes'],
  ['4.18', 'No answer'],
];

const all = [...handshake, ...dictPut, ...filePut];

export const session: Section<ClientContext>[] = PARTS.map(([id, title]) => ({
  id,
  title,
  cases: all.filter((c) => c.id.startsWith(`${id}.`)),
}));
