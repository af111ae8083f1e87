/** docs/PROTOCOL.md §5.3 JSON: the decoding vectors of spec/vectors/dict/decoding.json for JSON, sent to the server. */
import type { Section } from '../../case';
import type { Vectors } from '../../vectors';
import type { ServerContext } from '../context';
import { decodingCases } from './decoding-cases';

export const json = (vectors: Vectors): Section<ServerContext> => ({
  id: '5.3',
  title: 'JSON',
  cases: decodingCases(vectors.decoding, '5.3', 1),
});
