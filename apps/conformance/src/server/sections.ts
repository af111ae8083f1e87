/**
 * The server cases in the order of docs/PROTOCOL.md's table of contents: one file per section (for §4, one per
 * paragraph, numbered in order: 4.1 Handshake … 4.10 Errors). §5.3-§5.5 take their cases from the decoding
 * vectors, so the list is made from the vectors.
 */
import type { Section } from '../case';
import type { Vectors } from '../vectors';
import { frames } from './cases/2-frames';
import { clientEnvelopes } from './cases/3-1-client-envelopes';
import { serverEnvelopes } from './cases/3-2-server-envelopes';
import { handshake } from './cases/4-1-handshake';
import { admission } from './cases/4-2-admission';
import { dictPut } from './cases/4-3-dict-put';
import { filePut } from './cases/4-4-file-put';
import { resuming } from './cases/4-5-resuming';
import { idle } from './cases/4-6-idle';
import { minRate } from './cases/4-7-min-rate';
import { halfClose } from './cases/4-8-half-close';
import { goodbye } from './cases/4-9-goodbye';
import { errors } from './cases/4-10-errors';
import { valueModel } from './cases/5-1-value-model';
import { formatNames } from './cases/5-2-format-names';
import { json } from './cases/5-3-json';
import { xml } from './cases/5-4-xml';
import { protobuf } from './cases/5-5-protobuf';
import { goldenDicts } from './cases/5-7-golden-vectors';
import { limits } from './cases/6-limits';
import { errorCodes } from './cases/7-error-codes';
import { vectors as goldenVectors } from './cases/8-vectors';
import type { ServerContext } from './context';

export function serverSections(vectors: Vectors): Section<ServerContext>[] {
  return [
    frames,
    clientEnvelopes,
    serverEnvelopes,
    handshake,
    admission,
    dictPut,
    filePut,
    resuming,
    idle,
    minRate,
    halfClose,
    goodbye,
    errors,
    valueModel,
    formatNames,
    json(vectors),
    xml(vectors),
    protobuf(vectors),
    goldenDicts,
    limits,
    errorCodes,
    goldenVectors,
  ];
}
