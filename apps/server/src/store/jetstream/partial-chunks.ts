/**
 * A partial's chunks on the object store's chunk subject (./partials.ts): counted from the stream's subject
 * index, read back by Direct Get to hash the prefix, and trimmed to the recorded ones.
 */
import { createHash, type Hash } from 'node:crypto';
import { StorageError } from '@proj/protocol';
import type { JsConnection } from './connection';
import { chunkSubject } from './objects';
import type { PartialRecord } from './partial-record';
import { retry } from './retry';

/** Messages on one subject of the items stream (the stream's subject index: one request). */
export async function countOn(conn: JsConnection, subject: string): Promise<number> {
  const info = await retry(
    'chunk count',
    () => conn.jsm.streams.info(conn.itemsStream, { subjects_filter: subject }),
    conn.deadline,
  );
  return info.state.subjects?.[subject] ?? 0;
}

/** Reads the recorded chunks of a partial by Direct Get and hashes them, checking them against the record. */
export async function readBack(
  conn: JsConnection,
  record: PartialRecord,
): Promise<{ hash: Hash; head: Buffer; seqs: number[] }> {
  const subject = chunkSubject(conn, record.nuid);
  const hash = createHash('sha256');
  let head: Buffer = Buffer.alloc(0);
  let seq = 0;
  let bytes = 0;
  const seqs: number[] = [];
  for (let i = 0; i < record.chunks; i++) {
    const from = seq + 1;
    const m = await retry(
      'partial read',
      () => conn.jsm.direct.getMessage(conn.itemsStream, { seq: from, next_by_subj: subject }),
      conn.deadline,
    );
    if (m === null || m.seq > record.lastSeq) throw new StorageError(`chunk ${i + 1} of ${record.chunks} missing`);
    seq = m.seq;
    seqs.push(seq);
    hash.update(m.data);
    if (head.length < 64) head = Buffer.concat([head, Buffer.from(m.data.subarray(0, 64 - head.length))]);
    bytes += m.data.length;
  }
  if (seq !== record.lastSeq || bytes !== record.durable)
    throw new StorageError(
      `chunks hold ${bytes} bytes up to #${seq}, recorded ${record.durable} up to #${record.lastSeq}`,
    );
  if (record.sha256 !== undefined && hash.copy().digest('hex') !== record.sha256)
    throw new StorageError('chunks do not hash to the recorded SHA-256');
  return { hash, head, seqs };
}

/** Deletes the chunks on a partial's subject that are not the recorded ones (`held`: their sequences). */
export async function trimChunks(conn: JsConnection, record: PartialRecord, held: number[]): Promise<void> {
  const subject = chunkSubject(conn, record.nuid);
  const keep = new Set(held);
  for (let seq = 1; ; ) {
    const from = seq;
    const m = await retry(
      'partial read',
      () => conn.jsm.direct.getMessage(conn.itemsStream, { seq: from, next_by_subj: subject }),
      conn.deadline,
    ).catch((err) => {
      if ((err as { code?: unknown }).code === 10037 || (err as { name?: string }).name === 'NotFoundError')
        return null;
      throw err;
    });
    if (m === null) break;
    if (!keep.has(m.seq))
      await retry('chunk removal', () => conn.jsm.streams.deleteMessage(conn.itemsStream, m.seq), conn.deadline);
    seq = m.seq + 1;
  }
  if ((await countOn(conn, subject)) !== record.chunks) throw new StorageError('stray chunks could not be removed');
}
