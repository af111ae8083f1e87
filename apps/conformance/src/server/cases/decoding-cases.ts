/**
 * The cases spec/vectors/dict/decoding.json gives for one section (docs/PROTOCOL.md §5.3, §5.4, §5.5): each body,
 * sent as a dictionary put, must be stored, or refused with its code for the put while the session goes on.
 */
import type { Case } from '../../case';
import type { DecodingCase } from '../../vectors';
import type { ServerContext } from '../context';
import { putDict, refusedDict, withSession } from '../steps';

/** One case per decoding vector of `section`, numbered on from `first` in the order of the file. */
export function decodingCases(vectors: readonly DecodingCase[], section: string, first: number): Case<ServerContext>[] {
  return vectors
    .filter((c) => c.section === section)
    .map((c, i) => ({
      id: `${section}.${first + i}`,
      title: `decoding.json ${c.name}: ${c.code === undefined ? 'stored' : `refused with ${c.code}`}`,
      spec: c.rule,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const p = { id: ctx.ids.next('vector'), format: c.format, body: c.bytes };
          if (c.code === undefined) await putDict(conn, ctx, p);
          else await refusedDict(conn, ctx, p, c.code);
        }),
    }));
}
