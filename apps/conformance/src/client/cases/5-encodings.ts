/**
 * Client mode, docs/PROTOCOL.md §5.7 Golden vectors: given the sample dictionary, a client's body in each format
 * is byte for byte the committed encoding (the encoders of §5.3–§5.5 leave no choice).
 */
import type { DictFormat } from '@proj/protocol/dict';
import { check, type Case, type Section } from '../../case';
import { dataSent, expectAcknowledged, scenario, type ClientContext } from '../context';

const FORMATS: DictFormat[] = ['json', 'xml', 'protobuf'];

export const encodings: Section<ClientContext> = {
  id: '5.7',
  title: 'Golden vectors',
  cases: FORMATS.map(
    (format, i): Case<ClientContext> => ({
      id: `5.7.${i + 1}`,
      title: `the sample dictionary sent as ${format} is byte for byte spec/vectors/dict/sample.${format === 'protobuf' ? 'pb' : format}`,
      spec: 'encode the value to exactly these bytes',
      run: async (ctx) => {
        const job = { id: ctx.ids.next('client'), format, file: ctx.sampleValueFile };
        const o = await scenario(ctx, {}, (port) => ctx.driver.sendDict('127.0.0.1', port, job));
        expectAcknowledged(o);
        const expected = ctx.vectors.sample.encodings[format];
        const body = o.connections[0] ? dataSent(o.connections[0]) : Buffer.alloc(0);
        check(body.equals(expected), () => {
          let at = 0;
          while (at < body.length && body[at] === expected[at]) at++;
          return `the ${format} body (${body.length} bytes) differs from the golden one (${expected.length} bytes) from byte ${at}`;
        });
      },
    }),
  ),
};
