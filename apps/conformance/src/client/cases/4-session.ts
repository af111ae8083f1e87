/**
 * Client mode, docs/PROTOCOL.md §4 Session, paragraph by paragraph as in the server cases (4.1 Handshake, 4.3
 * Dictionary put, 4.4 File put): how a client takes a refusal, a duplicate, an error in the middle of a file, and
 * a connection that closes before the answer.
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
    title: 'a hello refused with ERR_VERSION fails the client',
    spec: 'The server answers `error` `ERR_VERSION` (fatal) when it does not speak `version`',
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
    spec: '`ERR_AUTH` (fatal) when it requires a token and the hello has none or the wrong one',
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
    id: '4.3.1',
    title: 'a dictionary refused with a non-fatal error fails the put',
    spec: "or an error with the put's `id` (`ERR_DECODE`, `ERR_DICT_INVALID`, …), after which the connection goes on",
    run: async (ctx) => {
      const job = await dictJob(ctx, { refused: 'invalid' });
      const o = await scenario(ctx, { dict: () => ({ error: 'ERR_DICT_INVALID' }) }, (port) =>
        ctx.driver.sendDict('127.0.0.1', port, job),
      );
      expectFailed(o, 'ERR_DICT_INVALID');
    },
  },
  {
    id: '4.3.2',
    title: 'the first receipt again, with duplicate: true, acknowledges the put',
    spec: 'If the id was stored before, the server answers the first receipt with `duplicate: true` and stores nothing.',
    run: async (ctx) => {
      const job = await dictJob(ctx, { duplicate: true });
      expectAcknowledged(
        await scenario(ctx, { dict: () => 'duplicate' }, (port) => ctx.driver.sendDict('127.0.0.1', port, job)),
      );
    },
  },
  {
    id: '4.3.3',
    title: 'ERR_DICT_TOO_LARGE (fatal) fails the put',
    spec: 'When `bytes` exceeds `maxDictBytes` the server answers `ERR_DICT_TOO_LARGE` as a fatal error',
    run: async (ctx) => {
      const job = await dictJob(ctx, { big: 'x'.repeat(300) });
      const o = await scenario(ctx, { dict: () => ({ error: 'ERR_DICT_TOO_LARGE', fatal: true }) }, (port) =>
        ctx.driver.sendDict('127.0.0.1', port, job),
      );
      expectFailed(o, 'ERR_DICT_TOO_LARGE');
    },
  },
  {
    id: '4.3.4',
    title: 'a connection closed before the answer: the put fails, or is sent again under the same id',
    spec: 'a put repeated with the same id (a retry after a lost connection) gets the first receipt again',
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
    id: '4.4.1',
    title: 'a file put waits for ready, stays within maxFrameBytes, and ends with its true count and SHA-256',
    spec: 'The client sends `put_file` and waits. … After `ready`, the client sends the file as data frames (any sizes up to `maxFrameBytes`…), then `file_end`.',
    run: async (ctx) => {
      const { job } = await fileJob(ctx, 10_000);
      const o = await scenario(ctx, { welcome: welcomeWith(ctx, { maxFrameBytes: 1024 }), readyDelayMs: 300 }, (port) =>
        ctx.driver.sendFile('127.0.0.1', port, job),
      );
      expectAcknowledged(o);
    },
  },
  {
    id: '4.4.2',
    title: 'put_file answered by the first receipt (duplicate): nothing more is sent for it',
    spec: '`receipt` with `duplicate: true` when it already holds this id: the client sends nothing more for this put',
    run: async (ctx) => {
      const { job, body } = await fileJob(ctx, 4000);
      const o = await scenario(ctx, { fileStart: () => ({ duplicateOf: body }) }, (port) =>
        ctx.driver.sendFile('127.0.0.1', port, job),
      );
      expectAcknowledged(o);
    },
  },
  {
    id: '4.4.3',
    title: 'put_file refused (ERR_FILE_TOO_LARGE): no data is sent, the put fails',
    spec: "`error` with the put's id when it refuses: `size` over `maxFileBytes` (`ERR_FILE_TOO_LARGE`)",
    run: async (ctx) => {
      const { job } = await fileJob(ctx, 4000);
      const o = await scenario(ctx, { fileStart: () => ({ error: 'ERR_FILE_TOO_LARGE' }) }, (port) =>
        ctx.driver.sendFile('127.0.0.1', port, job),
      );
      expectFailed(o, 'ERR_FILE_TOO_LARGE');
    },
  },
  {
    id: '4.4.4',
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
    id: '4.4.5',
    title: "a connection closed before the file's receipt: the put fails, or is sent again under the same id",
    spec: 'A connection that closes during a put leaves nothing stored.',
    run: async (ctx) => {
      const { job } = await fileJob(ctx, 6000);
      const o = await scenario(ctx, { file: (_put, connection) => (connection === 0 ? 'close' : 'receipt') }, (port) =>
        ctx.driver.sendFile('127.0.0.1', port, job),
      );
      failedOrRetried(o);
    },
  },
];

export const session: Section<ClientContext>[] = [
  { id: '4.1', title: 'Handshake', cases: handshake },
  { id: '4.3', title: 'Dictionary put', cases: dictPut },
  { id: '4.4', title: 'File put', cases: filePut },
];
