/**
 * The server cases in the order of docs/PROTOCOL.md's table of contents: one file per section (for §4, one per
 * paragraph with a bold name, numbered in order: 4.1 Handshake, 4.2 Capabilities … 4.19 Notices). §5.3-§5.5 take their cases from the decoding
 * vectors, so the list is made from the vectors.
 */
import type { Section } from '../case';
import type { Vectors } from '../vectors';
import { frames } from './cases/2-frames';
import { clientEnvelopes } from './cases/3-1-client-envelopes';
import { serverEnvelopes } from './cases/3-2-server-envelopes';
import { handshake } from './cases/4-1-handshake';
import { capabilities } from './cases/4-2-capabilities';
import { admission } from './cases/4-3-admission';
import { order } from './cases/4-4-order';
import { dictPut } from './cases/4-5-dict-put';
import { filePut } from './cases/4-6-file-put';
import { tooManyBytes } from './cases/4-7-too-many-bytes';
import { encryption } from './cases/4-8-encryption';
import { storedNames } from './cases/4-9-stored-names';
import { idempotency } from './cases/4-10-idempotency';
import { whatMayComeWhen } from './cases/4-11-what-may-come-when';
import { resuming } from './cases/4-12-resuming';
import { idle } from './cases/4-13-idle';
import { minRate } from './cases/4-14-min-rate';
import { halfClose } from './cases/4-15-half-close';
import { goodbye } from './cases/4-16-goodbye';
import { errors } from './cases/4-17-errors';
import { noAnswer } from './cases/4-18-no-answer';
import { notices } from './cases/4-19-notices';
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
    capabilities,
    admission,
    order,
    dictPut,
    filePut,
    tooManyBytes,
    encryption,
    storedNames,
    idempotency,
    whatMayComeWhen,
    resuming,
    idle,
    minRate,
    halfClose,
    goodbye,
    errors,
    noAnswer,
    notices,
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
