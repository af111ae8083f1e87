/**
 * A partial's KV entry in the bucket `proj_partials` (./partials.ts): its record, and reading it from the
 * stream's leader.
 */
import type { Encryption } from '@proj/protocol';
import type { JsConnection } from './connection';
import { PARTIALS_BUCKET } from './names';
import { retry } from './retry';

/** JetStream's answer to a KV `create` or `update` on a revision that is not the last one. */
const WRONG_LAST_SEQUENCE = 10071;

export function isWrongSequence(err: unknown): boolean {
  return (err as { code?: unknown }).code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(String(err));
}

/** A partial's KV entry. */
export interface PartialRecord {
  id: string;
  /** The declared size of the put that wrote it, if it declared one. */
  size?: number;
  encryption: Encryption;
  /** The chunk subject's nuid. */
  nuid: string;
  /** Whole acknowledged chunks held, and their bytes: where a resume continues. */
  chunks: number;
  durable: number;
  /** Stream sequence of the last held chunk (0 when none): chunks after it are not the partial's. */
  lastSeq: number;
  /** SHA-256 (hex) of the `durable` bytes when the cut knew it; a read back must match. */
  sha256?: string;
  /** The file's first bytes (up to 64), base64: recognises an age file without reading a chunk. */
  head: string;
  createdAt: string;
  touchedAt: string;
  /** The sink writing to it right now; absent once let go. */
  owner?: string;
}

export function parsePartial(bytes: Uint8Array): PartialRecord | undefined {
  try {
    const r = JSON.parse(Buffer.from(bytes).toString('utf8')) as PartialRecord;
    const ok =
      typeof r.id === 'string' &&
      typeof r.nuid === 'string' &&
      /^[A-Za-z0-9]+$/.test(r.nuid) &&
      Number.isSafeInteger(r.chunks) &&
      Number.isSafeInteger(r.durable) &&
      Number.isSafeInteger(r.lastSeq) &&
      (r.encryption === 'none' || r.encryption === 'age') &&
      typeof r.head === 'string';
    return ok ? r : undefined;
  } catch {
    return undefined;
  }
}

/** A partial's KV entry as the bucket's leader has it. */
export interface PartialEntry {
  value: Uint8Array;
  revision: number;
  operation: 'PUT' | 'DEL' | 'PURGE';
  /** When it was last written. */
  created: Date;
}

/**
 * Reads an entry from the stream's leader (the stream message API, not Direct Get: a replica answering a Direct
 * Get may not have applied the last update yet, and a claim on a stale revision would fail for nothing).
 */
export async function readPartialEntry(conn: JsConnection, key: string): Promise<PartialEntry | null> {
  const m = await retry(
    'partial lookup',
    () => conn.jsm.streams.getMessage(`KV_${PARTIALS_BUCKET}`, { last_by_subj: `$KV.${PARTIALS_BUCKET}.${key}` }),
    conn.deadline,
  ).catch((err) => {
    if ((err as { code?: unknown }).code === 10037 || (err as { name?: string }).name === 'NotFoundError') return null;
    throw err;
  });
  if (m === null) return null;
  const op = m.header?.get('KV-Operation');
  return { value: m.data, revision: m.seq, operation: op === 'DEL' || op === 'PURGE' ? op : 'PUT', created: m.time };
}
