/**
 * docs/PROTOCOL.md §3 Envelopes, "Client to server": the strict shape of every envelope a client sends. Each
 * refused envelope is `ERR_BAD_MESSAGE`, fatal (§7: "a control payload … matches no envelope"), but a hello of an
 * int version the server does not speak, which is `ERR_VERSION` (§4); the accepted edges get their normal answer.
 * The rules of §3's head on reading envelope text (ints by value, code points, the byte form) follow, from
 * ./3-1-json-text.ts.
 */
import { check, show, type Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError, expectMessage, expectVersionError } from '../expect';
import { hello, jsonDict, putDict, withConnection, withSession } from '../steps';
import { bad, helloJson } from './bad-message';
import { jsonText } from './3-1-json-text';

const MAX_INT = 2 ** 53 - 1;

const STRICT = 'Objects are strict: a field not listed here (names are case-sensitive) is `ERR_BAD_MESSAGE`';
const INT = '*int* is a JSON number whose value is an integer from 0 to 2^53 − 1';
const NOT_INTS =
  '`7`, `7.0`, `7e0` and `0.7e1` are all 7 and `-0` is 0, while `7.5`, `-1`, `1e400` (no finite double) and `9007199254740993` (read as 2^53) are not ints';
const ID = '*id* is a put id, 1 to 128 characters of `[A-Za-z0-9._:-]` beginning with a letter or digit';
const HELLO_VERSION =
  '`hello` | `version` int (the version the client speaks: 1; any other int is `ERR_VERSION`, section 4)';
const NOT_AN_INT =
  'A hello with no `version`, or one that is not an *int* (a string, a fraction, a negative number, a number above 2^53 − 1), is `ERR_BAD_MESSAGE`';
const SPOKEN_BUT_BROKEN =
  'so is a hello of a spoken version that breaks a rule of section 3 (an unknown field, 65 capabilities)';
const CAPABILITIES =
  '`capabilities` string[] (optional, default `[]`; at most 64 entries of at most 64 characters; the capabilities the client asks for, section 4)';
const HELLO_STRINGS = '`agent` string ≤ 128 (optional); `token` string 1..4096 (optional)';

const putDictJson = (fields: Record<string, unknown>) => (ctx: ServerContext) =>
  JSON.stringify({ type: 'put_dict', id: ctx.ids.next('env'), format: 'json', bytes: 2, ...fields });
const putFileJson = (fields: Record<string, unknown>) => (ctx: ServerContext) =>
  JSON.stringify({ type: 'put_file', id: ctx.ids.next('env'), name: 'env.txt', ...fields });

export const clientEnvelopes: Section<ServerContext> = {
  id: '3.1',
  title: 'Client to server',
  cases: [
    bad({
      id: '3.1.1',
      title: 'a JSON array instead of an object',
      spec: 'Each control payload is a JSON object with a `type` field.',
      json: () => '[{"type":"ping"}]',
    }),
    bad({
      id: '3.1.2',
      title: 'an object without a type',
      spec: 'Each control payload is a JSON object with a `type` field.',
      json: () => '{"nonce":"1"}',
    }),
    bad({
      id: '3.1.3',
      title: 'an unknown type',
      spec: 'Each control payload is a JSON object with a `type` field.',
      json: () => '{"type":"put"}',
    }),
    bad({
      id: '3.1.4',
      title: 'a ping with a field not listed',
      spec: STRICT,
      json: () => '{"type":"ping","nonce":"1","extra":true}',
    }),
    bad({
      id: '3.1.5',
      title: 'a hello with a field not listed',
      spec: `${STRICT} … ${SPOKEN_BUT_BROKEN}`,
      asHello: true,
      json: helloJson({ resume: true }),
    }),
    bad({
      id: '3.1.6',
      title: 'a field set to null',
      spec: 'Fields marked optional may be absent; no field may be `null`.',
      json: () => '{"type":"ping","nonce":null}',
    }),
    {
      id: '3.1.7',
      title: 'hello version 0 is ERR_VERSION (fatal), listing the versions the server speaks',
      spec: `${HELLO_VERSION} … When it is an *int* the server does not speak (\`0\` included), the answer is \`ERR_VERSION\` with \`supported\``,
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.send(hello(ctx, { version: 0 }));
          await expectVersionError(conn, ctx, 0);
        }),
    },
    bad({
      id: '3.1.8',
      title: 'hello version as a string',
      spec: NOT_AN_INT,
      asHello: true,
      json: helloJson({ version: '1' }),
    }),
    bad({
      id: '3.1.9',
      title: 'hello version 1.5',
      spec: NOT_AN_INT,
      asHello: true,
      json: helloJson({ version: 1.5 }),
    }),
    {
      id: '3.1.10',
      title: 'hello version written 1.0 is version 1: welcomed',
      spec: `${INT} … ${NOT_INTS}`,
      run: (ctx) =>
        withConnection(ctx, async (conn) => {
          await conn.sendJson(JSON.stringify(hello(ctx)).replace('"version":1,', '"version":1.0,'));
          const welcome = await expectMessage(conn, ctx, 'welcome');
          check(welcome.version === 1, () => `a hello for version 1.0 got a welcome for ${show(welcome.version)}`);
        }),
    },
    bad({
      id: '3.1.11',
      title: 'hello with 65 capabilities',
      spec: `${CAPABILITIES} … ${SPOKEN_BUT_BROKEN}`,
      asHello: true,
      json: helloJson({ capabilities: Array.from({ length: 65 }, (_, i) => `c${i}`) }),
    }),
    bad({
      id: '3.1.12',
      title: 'hello with a capability of 65 characters',
      spec: CAPABILITIES,
      asHello: true,
      json: helloJson({ capabilities: ['c'.repeat(65)] }),
    }),
    bad({
      id: '3.1.13',
      title: 'hello with an agent of 129 characters',
      spec: HELLO_STRINGS,
      asHello: true,
      json: helloJson({ agent: 'a'.repeat(129) }),
    }),
    bad({
      id: '3.1.14',
      title: 'hello with an empty token',
      spec: HELLO_STRINGS,
      asHello: true,
      json: helloJson({ token: '' }),
    }),
    bad({
      id: '3.1.15',
      title: 'hello with a token of 4097 characters',
      spec: HELLO_STRINGS,
      asHello: true,
      json: helloJson({ token: 't'.repeat(4097) }),
    }),
    bad({ id: '3.1.16', title: 'put_dict bytes −1', spec: INT, json: putDictJson({ bytes: -1 }) }),
    bad({ id: '3.1.17', title: 'put_dict bytes 2^53', spec: INT, json: putDictJson({ bytes: 2 ** 53 }) }),
    bad({ id: '3.1.18', title: 'put_dict bytes as a string', spec: INT, json: putDictJson({ bytes: '2' }) }),
    bad({ id: '3.1.19', title: 'an empty put id', spec: ID, json: putDictJson({ id: '' }) }),
    bad({ id: '3.1.20', title: 'a put id of 129 characters', spec: ID, json: putDictJson({ id: 'a'.repeat(129) }) }),
    bad({ id: '3.1.21', title: 'a put id beginning with a dot', spec: ID, json: putDictJson({ id: '.hidden' }) }),
    bad({ id: '3.1.22', title: 'a put id with a slash', spec: ID, json: putDictJson({ id: 'a/b' }) }),
    bad({ id: '3.1.23', title: 'a put id with a space', spec: ID, json: putDictJson({ id: 'a b' }) }),
    bad({
      id: '3.1.24',
      title: 'put_dict format yaml',
      spec: '`put_dict` | `id` id; `format` `"json"` \\| `"xml"` \\| `"protobuf"`',
      json: putDictJson({ format: 'yaml' }),
    }),
    bad({
      id: '3.1.25',
      title: 'put_dict format JSON (upper case)',
      spec: '§5.2: These three are the names on the wire (`put_dict.format`, `receipt.format`, `welcome.formats`): exact and lower case.',
      json: putDictJson({ format: 'JSON' }),
    }),
    bad({
      id: '3.1.26',
      title: 'put_dict without bytes',
      spec: '`put_dict` | `id` id; `format` …; `bytes` int',
      json: (ctx) => JSON.stringify({ type: 'put_dict', id: ctx.ids.next('env'), format: 'json' }),
    }),
    bad({
      id: '3.1.27',
      title: 'put_file with an empty name',
      spec: '`put_file` | `id` id; `name` string 1..1024',
      json: putFileJson({ name: '' }),
    }),
    bad({
      id: '3.1.28',
      title: 'put_file with a name of 1025 characters',
      spec: '`put_file` | `id` id; `name` string 1..1024',
      json: putFileJson({ name: 'n'.repeat(1025) }),
    }),
    bad({
      id: '3.1.29',
      title: 'put_file encryption gpg',
      spec: '`encryption` `"none"` \\| `"age"` (optional, default `"none"`)',
      json: putFileJson({ encryption: 'gpg' }),
    }),
    bad({ id: '3.1.30', title: 'put_file size 1.5', spec: INT, json: putFileJson({ size: 1.5 }) }),
    bad({ id: '3.1.31', title: 'put_file offset −1', spec: INT, json: putFileJson({ offset: -1 }) }),
    bad({
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
    }),
    bad({
      id: '3.1.33',
      title: 'file_end with a SHA-256 of 63 digits',
      spec: '*sha256* is 64 lowercase hex digits.',
      inFilePut: true,
      json: () => JSON.stringify({ type: 'file_end', id: 'x', bytes: 0, sha256: 'e'.repeat(63) }),
    }),
    bad({ id: '3.1.34', title: 'cancel without an id', spec: '`cancel` | `id` id', json: () => '{"type":"cancel"}' }),
    bad({
      id: '3.1.35',
      title: 'a ping nonce of 65 characters',
      spec: '`ping` | `nonce` string ≤ 64 (optional)',
      json: () => JSON.stringify({ type: 'ping', nonce: 'n'.repeat(65) }),
    }),
    bad({
      id: '3.1.36',
      title: 'a ping nonce that is a number',
      spec: '`ping` | `nonce` string ≤ 64 (optional)',
      json: () => '{"type":"ping","nonce":42}',
    }),
    bad({ id: '3.1.37', title: 'a bye with a field', spec: STRICT, json: () => '{"type":"bye","reason":"done"}' }),
    {
      id: '3.1.38',
      title: 'a hello with only type and version, 64 capabilities of 64 characters, an agent of 128: welcomed',
      spec: `${CAPABILITIES}; ${HELLO_STRINGS}`,
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
    ...jsonText,
  ],
};
