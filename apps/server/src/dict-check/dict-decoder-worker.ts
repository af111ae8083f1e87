/**
 * The worker thread of ./dict-decoder-pool.ts: checks one dictionary body at a time with ./dict-check.ts and
 * posts back the texts, or the error as plain data (a structured clone would keep only its message).
 */
import { parentPort } from 'node:worker_threads';
import { protocolErrorData, ProtocolError, type ProtocolErrorData } from '@proj/protocol';
import type { DictFormat, DictLimits } from '@proj/protocol/dict';
import { checkDict, type DictViews, type DictViewsWanted } from './dict-check';

/** A job from the pool. `bytes` is transferred: the worker owns it. */
export interface DecodeJob {
  id: number;
  bytes: Uint8Array;
  format: DictFormat;
  limits: DictLimits;
  wanted: DictViewsWanted;
}

/** The answer to a job: the texts, a coded refusal, or a failure nobody foresaw (a bug: ERR_INTERNAL). */
export type DecodeAnswer =
  | { id: number; views: DictViews }
  | { id: number; refused: ProtocolErrorData }
  | { id: number; failed: { message: string; stack?: string } };

function answer(job: DecodeJob): DecodeAnswer {
  try {
    return { id: job.id, views: checkDict(job.bytes, job.format, job.limits, job.wanted) };
  } catch (err) {
    if (err instanceof ProtocolError) return { id: job.id, refused: protocolErrorData(err) };
    const e = err instanceof Error ? err : new Error(String(err));
    return { id: job.id, failed: { message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) } };
  }
}

parentPort?.on('message', (job: DecodeJob) => {
  parentPort?.postMessage(answer(job));
});
