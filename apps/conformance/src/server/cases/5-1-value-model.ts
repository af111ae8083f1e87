/**
 * docs/PROTOCOL.md §5.1 Value model, its limits: a dictionary nested exactly `maxDictDepth` deep is stored in
 * every format, one level more is ERR_DICT_TOO_DEEP for the put, and hostile nesting ends the same way.
 */
import { encodeDict, type Dict, type DictFormat, type DictValue } from '@proj/protocol/dict';
import { Skip, type Case, type Section } from '../../case';
import { canSend, type ServerContext } from '../context';
import { putDict, refusedDict, withSession } from '../steps';

const FORMATS: DictFormat[] = ['json', 'xml', 'protobuf'];
const DEPTH = 'The root object is depth 1; each array or object inside a container adds one.';

/** A dictionary `depth` deep (root = 1), objects and arrays taking turns, encoded without our encoder's limits. */
function nested(depth: number, format: DictFormat): Uint8Array {
  let inner: DictValue = {};
  for (let level = depth; level > 2; level--) inner = level % 2 === 0 ? [inner] : { k: inner };
  const value: Dict = depth === 1 ? {} : { k: inner };
  return encodeDict(value, format, { maxDictDepth: depth + 1, maxDictBytes: 2 ** 31 });
}

const atLimit = FORMATS.map(
  (format, i): Case<ServerContext> => ({
    id: `5.1.${i + 1}`,
    title: `a ${format} dictionary exactly maxDictDepth deep is stored`,
    spec: DEPTH,
    run: (ctx) =>
      withSession(ctx, async (conn) => {
        const body = nested(ctx.welcome.limits.maxDictDepth, format);
        canSend(ctx, body.length, 'a dictionary of maxDictDepth levels');
        await putDict(conn, ctx, { id: ctx.ids.next('deep'), format, body });
      }),
  }),
);

const overLimit = FORMATS.map(
  (format, i): Case<ServerContext> => ({
    id: `5.1.${i + 4}`,
    title: `a ${format} dictionary one level deeper is ERR_DICT_TOO_DEEP for the put`,
    spec: '| `ERR_DICT_TOO_DEEP` | nesting beyond `maxDictDepth` (encode, decode, validate)',
    run: (ctx) =>
      withSession(ctx, async (conn) => {
        const body = nested(ctx.welcome.limits.maxDictDepth + 1, format);
        canSend(ctx, body.length, 'a dictionary one level too deep');
        await refusedDict(conn, ctx, { id: ctx.ids.next('too-deep'), format, body }, 'ERR_DICT_TOO_DEEP');
      }),
  }),
);

export const valueModel: Section<ServerContext> = {
  id: '5.1',
  title: 'Value model',
  cases: [
    ...atLimit,
    ...overLimit,
    {
      id: '5.1.7',
      title: 'hostile nesting (100 000 [ in JSON) is ERR_DICT_TOO_DEEP for the put, and the session goes on',
      spec: 'Depth is checked while reading, before a deeper level is built, so hostile nesting (100 000 `[`) ends with `ERR_DICT_TOO_DEEP`, not a stack overflow.',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const n = Math.min(100_000, ctx.welcome.limits.maxDictBytes - 5);
          if (n <= ctx.welcome.limits.maxDictDepth) throw new Skip('maxDictBytes is too small for hostile nesting');
          const body = Buffer.from(`{"a":${'['.repeat(n)}`);
          await refusedDict(conn, ctx, { id: ctx.ids.next('hostile'), format: 'json', body }, 'ERR_DICT_TOO_DEEP');
          await putDict(conn, ctx, {
            id: ctx.ids.next('after'),
            format: 'json',
            body: Buffer.from('{"after":"hostile"}'),
          });
        }),
    },
  ],
};
