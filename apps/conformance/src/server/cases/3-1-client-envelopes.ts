/**
 * docs/PROTOCOL.md §3 Envelopes, "Client to server": the strict shape of every envelope a client sends. Each
 * refused one is `ERR_BAD_MESSAGE`, fatal (§7: "a control payload … matches no envelope"); the accepted edges
 * (a 128-character id, 64 capabilities, the largest int) get their normal answer.
 */
import type { Case, Section } from '../../case';
import type { ServerContext } from '../context';
import type { RawConnection } from '../raw-connection';
import { expectError, expectMessage } from '../expect';
import { hello, jsonDict, putDict, startFile, withConnection, withSession } from '../steps';

const MAX_INT = 2 ** 53 - 1;

/** An envelope (as JSON text, so that any shape can be written) that must be ERR_BAD_MESSAGE, fatal. */
interface Refusal {
  id: string;
  title: string;
  spec: string;
  reconcile?: string;
  /** Sent instead of the hello (true), or after the handshake. */
  asHello?: boolean;
  /** Open a file put first (the envelope is sent while it is in progress). */
  inFilePut?: boolean;
  json: (ctx: ServerContext) => string;
}

function refused(r: Refusal): Case<ServerContext> {
  const send = async (conn: RawConnection, ctx: ServerContext) => {
    await conn.sendJson(r.json(ctx));
    await expectError(conn, ctx, 'ERR_BAD_MESSAGE', { fatal: true });
  };
  return {
    id: r.id,
    title: r.title,
    spec: r.spec,
    ...(r.reconcile !== undefined ? { reconcile: r.reconcile } : {}),
    run: (ctx) =>
      r.asHello
        ? withConnection(ctx, (conn) => send(conn, ctx))
        : withSession(ctx, async (conn) => {
            if (r.inFilePut) {
              await startFile(conn, ctx, { id: ctx.ids.next('env'), name: 'envelope.txt', body: Buffer.from('abc') });
            }
            await send(conn, ctx);
          }),
  };
}

const STRICT = 'Objects are strict: a field not listed here is `ERR_BAD_MESSAGE`.';
const INT = '*int* is a JSON integer from 0 to 2^53 − 1';
const ID = '*id* is a put id, 1 to 128 characters of `[A-Za-z0-9._:-]` beginning with a letter or digit';
const HELLO =
  '`hello` | `version` int ≥ 1; `capabilities` string[] (optional, default `[]`; at most 64 entries of at most 64 characters); `agent` string ≤ 128 (optional); `token` string 1..4096 (optional)';

/** A hello of the kit's (with its token) with `fields` replaced, as JSON. */
const helloJson = (fields: Record<string, unknown>) => (ctx: ServerContext) => JSON.stringify(hello(ctx, fields));
const putDictJson = (fields: Record<string, unknown>) => (ctx: ServerContext) =>
  JSON.stringify({ type: 'put_dict', id: ctx.ids.next('env'), format: 'json', bytes: 2, ...fields });
const putFileJson = (fields: Record<string, unknown>) => (ctx: ServerContext) =>
  JSON.stringify({ type: 'put_file', id: ctx.ids.next('env'), name: 'env.txt', ...fields });

const refusals: Refusal[] = [
  {
    id: '3.1.1',
    title: 'a JSON array instead of an object',
    spec: 'Each control payload is a JSON object with a `type` field.',
    json: () => '[{"type":"ping"}]',
  },
  {
    id: '3.1.2',
    title: 'an object without a type',
    spec: 'Each control payload is a JSON object with a `type` field.',
    json: () => '{"nonce":"1"}',
  },
  {
    id: '3.1.3',
    title: 'an unknown type',
    spec: 'Each control payload is a JSON object with a `type` field.',
    json: () => '{"type":"put"}',
  },
  {
    id: '3.1.4',
    title: 'a ping with a field not listed',
    spec: STRICT,
    json: () => '{"type":"ping","nonce":"1","extra":true}',
  },
  {
    id: '3.1.5',
    title: 'a hello with a field not listed',
    spec: STRICT,
    asHello: true,
    json: helloJson({ resume: true }),
  },
  {
    id: '3.1.6',
    title: 'a field set to null',
    spec: 'Fields marked optional may be absent; no field may be `null`.',
    json: () => '{"type":"ping","nonce":null}',
  },
  {
    id: '3.1.7',
    title: 'hello version 0',
    spec: HELLO,
    asHello: true,
    reconcile: 'issue #13 item 15: version 0 may become ERR_VERSION',
    json: helloJson({ version: 0 }),
  },
  { id: '3.1.8', title: 'hello version as a string', spec: HELLO, asHello: true, json: helloJson({ version: '1' }) },
  { id: '3.1.9', title: 'hello version 1.5', spec: INT, asHello: true, json: helloJson({ version: 1.5 }) },
  {
    id: '3.1.10',
    title: 'hello version written 1.0 (not a JSON integer)',
    spec: INT,
    asHello: true,
    reconcile: 'issue #13 item 7: the server reads 1.0 as the integer 1',
    json: (ctx) => JSON.stringify(hello(ctx)).replace('"version":1,', '"version":1.0,'),
  },
  {
    id: '3.1.11',
    title: 'hello with 65 capabilities',
    spec: HELLO,
    asHello: true,
    json: helloJson({ capabilities: Array.from({ length: 65 }, (_, i) => `c${i}`) }),
  },
  {
    id: '3.1.12',
    title: 'hello with a capability of 65 characters',
    spec: HELLO,
    asHello: true,
    json: helloJson({ capabilities: ['c'.repeat(65)] }),
  },
  {
    id: '3.1.13',
    title: 'hello with an agent of 129 characters',
    spec: HELLO,
    asHello: true,
    json: helloJson({ agent: 'a'.repeat(129) }),
  },
  { id: '3.1.14', title: 'hello with an empty token', spec: HELLO, asHello: true, json: helloJson({ token: '' }) },
  {
    id: '3.1.15',
    title: 'hello with a token of 4097 characters',
    spec: HELLO,
    asHello: true,
    json: helloJson({ token: 't'.repeat(4097) }),
  },
  { id: '3.1.16', title: 'put_dict bytes −1', spec: INT, json: putDictJson({ bytes: -1 }) },
  { id: '3.1.17', title: 'put_dict bytes 2^53', spec: INT, json: putDictJson({ bytes: 2 ** 53 }) },
  { id: '3.1.18', title: 'put_dict bytes as a string', spec: INT, json: putDictJson({ bytes: '2' }) },
  { id: '3.1.19', title: 'an empty put id', spec: ID, json: putDictJson({ id: '' }) },
  { id: '3.1.20', title: 'a put id of 129 characters', spec: ID, json: putDictJson({ id: 'a'.repeat(129) }) },
  { id: '3.1.21', title: 'a put id beginning with a dot', spec: ID, json: putDictJson({ id: '.hidden' }) },
  { id: '3.1.22', title: 'a put id with a slash', spec: ID, json: putDictJson({ id: 'a/b' }) },
  { id: '3.1.23', title: 'a put id with a space', spec: ID, json: putDictJson({ id: 'a b' }) },
  {
    id: '3.1.24',
    title: 'put_dict format yaml',
    spec: '`put_dict` | `id` id; `format` `"json"` \\| `"xml"` \\| `"protobuf"`',
    json: putDictJson({ format: 'yaml' }),
  },
  {
    id: '3.1.25',
    title: 'put_dict format JSON (upper case)',
    spec: '§5.2: Names are exact and lower case',
    json: putDictJson({ format: 'JSON' }),
  },
  {
    id: '3.1.26',
    title: 'put_dict without bytes',
    spec: '`put_dict` | `id` id; `format` …; `bytes` int',
    json: (ctx) => JSON.stringify({ type: 'put_dict', id: ctx.ids.next('env'), format: 'json' }),
  },
  {
    id: '3.1.27',
    title: 'put_file with an empty name',
    spec: '`put_file` | `id` id; `name` string 1..1024',
    json: putFileJson({ name: '' }),
  },
  {
    id: '3.1.28',
    title: 'put_file with a name of 1025 characters',
    spec: '`put_file` | `id` id; `name` string 1..1024',
    json: putFileJson({ name: 'n'.repeat(1025) }),
  },
  {
    id: '3.1.29',
    title: 'put_file encryption gpg',
    spec: '`encryption` `"none"` \\| `"age"` (optional, default `"none"`)',
    json: putFileJson({ encryption: 'gpg' }),
  },
  { id: '3.1.30', title: 'put_file size 1.5', spec: INT, json: putFileJson({ size: 1.5 }) },
  { id: '3.1.31', title: 'put_file offset −1', spec: INT, json: putFileJson({ offset: -1 }) },
  {
    id: '3.1.32',
    title: 'file_end with an upper-case SHA-256',
    spec: '*sha256* is 64 lowercase hex digits.',
    inFilePut: true,
    json: () =>
      JSON.stringify({
        type: 'file_end',
        id: 'x',
        bytes: 0,
        sha256: 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
      }),
  },
  {
    id: '3.1.33',
    title: 'file_end with a SHA-256 of 63 digits',
    spec: '*sha256* is 64 lowercase hex digits.',
    inFilePut: true,
    json: () => JSON.stringify({ type: 'file_end', id: 'x', bytes: 0, sha256: 'e'.repeat(63) }),
  },
  { id: '3.1.34', title: 'cancel without an id', spec: '`cancel` | `id` id', json: () => '{"type":"cancel"}' },
  {
    id: '3.1.35',
    title: 'a ping nonce of 65 characters',
    spec: '`ping` | `nonce` string ≤ 64 (optional)',
    json: () => JSON.stringify({ type: 'ping', nonce: 'n'.repeat(65) }),
  },
  {
    id: '3.1.36',
    title: 'a ping nonce that is a number',
    spec: '`ping` | `nonce` string ≤ 64 (optional)',
    json: () => '{"type":"ping","nonce":42}',
  },
  { id: '3.1.37', title: 'a bye with a field', spec: STRICT, json: () => '{"type":"bye","reason":"done"}' },
];

const accepted: Case<ServerContext>[] = [
  {
    id: '3.1.38',
    title: 'a hello with only type and version, 64 capabilities of 64 characters, an agent of 128: welcomed',
    spec: HELLO,
    run: (ctx) =>
      withConnection(ctx, async (conn) => {
        const caps = Array.from({ length: 64 }, (_, i) => `${i}`.padEnd(64, 'c'));
        const { capabilities: _c, agent: _a, ...minimal } = hello(ctx);
        await conn.send(minimal);
        await expectMessage(conn, ctx, 'welcome');
        await withConnection(ctx, async (second) => {
          await second.send(hello(ctx, { capabilities: caps, agent: 'a'.repeat(128) }));
          await expectMessage(second, ctx, 'welcome');
        });
      }),
  },
  {
    id: '3.1.39',
    title: 'a put id of 128 characters using every allowed character class: stored',
    spec: ID,
    run: (ctx) =>
      withSession(ctx, async (conn) => {
        const id = `${ctx.ids.next('id')}.A_b:C-9`.padEnd(128, 'z');
        await putDict(conn, ctx, { id, format: 'json', body: jsonDict('long id') });
      }),
  },
  {
    id: '3.1.40',
    title: 'put_dict bytes 2^53 − 1 is a valid int (refused as too large, not as a bad message)',
    spec: INT,
    run: (ctx) =>
      withSession(ctx, async (conn) => {
        await conn.send({ type: 'put_dict', id: ctx.ids.next('maxint'), format: 'json', bytes: MAX_INT });
        await expectError(conn, ctx, 'ERR_DICT_TOO_LARGE', { fatal: true });
      }),
  },
];

export const clientEnvelopes: Section<ServerContext> = {
  id: '3.1',
  title: 'Client to server',
  cases: [...refusals.map((r) => refused({ ...r, title: `${r.title} is ERR_BAD_MESSAGE (fatal)` })), ...accepted],
};
