/**
 * docs/PROTOCOL.md §5.5 Binary (`google.protobuf.Struct`): strict decoding of the shapes the spec names and our
 * decoder does not refuse today (a bool other than 0 or 1, a varint longer than it needs), then the decoding
 * vectors of spec/vectors/dict/decoding.json for the binary format.
 */
import type { Section } from '../../case';
import type { Vectors } from '../../vectors';
import type { ServerContext } from '../context';
import { refusedDict, withSession } from '../steps';
import { decodingCases } from './decoding-cases';

const STRICT =
  'Struct is a frozen well-known type, so anything but the canonical shape means the bytes are not a Struct, and is `ERR_DECODE`';

export const protobuf = (vectors: Vectors): Section<ServerContext> => ({
  id: '5.5',
  title: 'Binary (google.protobuf.Struct)',
  cases: [
    {
      id: '5.5.1',
      title: 'bool_value 2 is ERR_DECODE for the put',
      spec: `${STRICT}: … a \`bool_value\` other than a one-byte \`0\` or \`1\``,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          // {"a": <bool_value 2>}
          const body = Buffer.from('0a070a016112022002', 'hex');
          await refusedDict(conn, ctx, { id: ctx.ids.next('bool2'), format: 'protobuf', body }, 'ERR_DECODE');
        }),
    },
    {
      id: '5.5.2',
      title: 'a length written as a two-byte varint (0x87 0x00 for 7) is ERR_DECODE for the put',
      spec: `${STRICT}: … a tag or a length written as a varint longer than its value needs`,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          // {"a": null} with the entry's length 7 written as 0x87 0x00
          const body = Buffer.from('0a87000a016112020800', 'hex');
          await refusedDict(conn, ctx, { id: ctx.ids.next('varint'), format: 'protobuf', body }, 'ERR_DECODE');
        }),
    },
    ...decodingCases(vectors.decoding, '5.5', 3),
  ],
});
