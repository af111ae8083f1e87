/**
 * docs/PROTOCOL.md §5.7 Golden vectors: the sample dictionary in each encoding, sent as it is: the receipt's
 * size and SHA-256 are those of the committed bytes, byte for byte.
 */
import type { DictFormat } from '@proj/protocol/dict';
import type { Case, Section } from '../../case';
import type { ServerContext } from '../context';
import { putDict, withSession } from '../steps';

const FILES: Record<DictFormat, string> = { json: 'sample.json', xml: 'sample.xml', protobuf: 'sample.pb' };

export const goldenDicts: Section<ServerContext> = {
  id: '5.7',
  title: 'Golden vectors',
  cases: (Object.keys(FILES) as DictFormat[]).map(
    (format, i): Case<ServerContext> => ({
      id: `5.7.${i + 1}`,
      title: `spec/vectors/dict/${FILES[format]} is stored, its receipt naming exactly its bytes`,
      spec: '`bytes` and `sha256` describe the bytes the client sent (for a dictionary, the encoded bytes …)',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          await putDict(conn, ctx, { id: ctx.ids.next('sample'), format, body: ctx.vectors.sample.encodings[format] });
        }),
    }),
  ),
};
