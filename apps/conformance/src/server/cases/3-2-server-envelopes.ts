/**
 * docs/PROTOCOL.md §3 Envelopes, "Server to client": every answer the kit reads is checked against the strict
 * server schemas (./raw-connection.ts); these cases check the members whose meaning a schema cannot: what a
 * welcome announces, what a receipt describes and where it points, the pong's nonce, no id on a fatal error.
 */
import { check, show, type Section } from '../../case';
import type { ServerContext } from '../context';
import { checkPath, expectError, expectMessage, expectReceipt } from '../expect';
import { finishFile, jsonDict, putDict, putFile, withSession } from '../steps';

export const serverEnvelopes: Section<ServerContext> = {
  id: '3.2',
  title: 'Server to client',
  cases: [
    {
      id: '3.2.1',
      title: 'the welcome speaks version 1 and announces the formats and encryptions of version 1',
      spec: '`welcome` | `version` int; … `formats` string[] (… today `json`, `xml`, `protobuf`); `encryption` object: `accepts` string[] (same bounds; today `none`, `age`)',
      run: async (ctx) => {
        const w = ctx.welcome;
        check(w.version === 1, () => `expected version 1, got ${w.version}`);
        for (const f of ['json', 'xml', 'protobuf'])
          check(w.formats.includes(f), () => `formats lacks ${f}: ${show(w.formats)}`);
        for (const e of ['none', 'age']) {
          check(w.encryption.accepts.includes(e), () => `encryption.accepts lacks ${e}: ${show(w.encryption)}`);
        }
      },
    },
    {
      id: '3.2.2',
      title: 'a dictionary receipt describes the bytes sent: kind, size, SHA-256, format, a relative path',
      spec: '`bytes` and `sha256` describe the bytes the client sent (for a dictionary, the encoded bytes …)',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await putDict(conn, ctx, { id: ctx.ids.next('receipt'), format: 'json', body: jsonDict('receipt') });
        }),
    },
    {
      id: '3.2.3',
      title: 'a file receipt describes the bytes sent and has no format',
      spec: '`receipt` | … `format` (optional, dictionaries: `json` \\| `xml` \\| `protobuf`)',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await putFile(conn, ctx, { id: ctx.ids.next('receipt'), name: 'receipt.txt', body: Buffer.from('a file\n') });
        }),
    },
    {
      id: '3.2.4',
      title: 'a file named with .. and separators is stored under a path without .. (or refused as ERR_NAME_INVALID)',
      spec: "In a receipt, `path` is relative to the server's data directory, uses `/` as separator, and never contains `..` (not even inside a name)",
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          for (const name of ['../../up..and..out.txt', '..\\windows\\..x..', 'a..b..c']) {
            const id = ctx.ids.next('dots');
            const body = Buffer.from(name);
            await conn.send({ type: 'put_file', id, name, size: body.length });
            const answer = await conn.next(ctx.target.answerMs, `ready or ERR_NAME_INVALID for ${show(name)}`);
            check(answer.type === 'message', 'the server closed the connection');
            if (answer.message.type === 'error') {
              check(
                answer.message.code === 'ERR_NAME_INVALID' && !answer.message.fatal,
                () => `got ${show(answer.message)}`,
              );
              continue;
            }
            check(answer.message.type === 'ready', () => `expected ready, got ${show(answer.message)}`);
            await finishFile(conn, ctx, { id, name, body });
            const receipt = await expectReceipt(conn, ctx, { id, kind: 'file', body, duplicate: false });
            checkPath(receipt.path);
          }
        }),
    },
    {
      id: '3.2.5',
      title: "pong carries the ping's nonce, and none when the ping had none",
      spec: '`ping` | `nonce` string ≤ 64 (optional) | answered by `pong` with the same nonce',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await conn.send({ type: 'ping', nonce: 'n'.repeat(64) });
          const pong = await expectMessage(conn, ctx, 'pong');
          check(pong.nonce === 'n'.repeat(64), () => `expected the nonce back, got ${show(pong)}`);
          await conn.send({ type: 'ping' });
          const bare = await expectMessage(conn, ctx, 'pong');
          check(bare.nonce === undefined, () => `expected a pong without nonce, got ${show(bare)}`);
        }),
    },
    {
      id: '3.2.6',
      title: 'a fatal error about a put carries no id',
      spec: '`id` id (optional: the put it ends; never on a fatal error)',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const bytes = ctx.welcome.limits.maxDictBytes + 1;
          await conn.send({ type: 'put_dict', id: ctx.ids.next('fatal'), format: 'json', bytes });
          await expectError(conn, ctx, 'ERR_DICT_TOO_LARGE', { fatal: true });
        }),
    },
  ],
};
