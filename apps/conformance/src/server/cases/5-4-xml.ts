/** docs/PROTOCOL.md §5.4 XML: the decoding vectors of spec/vectors/dict/decoding.json for XML, sent to the server. */
import type { Section } from '../../case';
import type { Vectors } from '../../vectors';
import type { ServerContext } from '../context';
import { decodingCases } from './decoding-cases';

export const xml = (vectors: Vectors): Section<ServerContext> => ({
  id: '5.4',
  title: 'XML',
  cases: decodingCases(vectors.decoding, '5.4', 1),
});
