/**
 * The commit of a file put's object (docs/SCALE-OUT.md, "Design"): once every chunk is stored, the object's meta
 * is written under a name unique to the attempt, then the receipt is created. A put that loses the race for its
 * id removes its object and answers with the winner's receipt. The sink (./object-sink.ts) removes what is left
 * when this throws; a receipt `create` that ran out of time is in doubt, and its object stays for cleanup.
 */
import type { Logger } from '../../logger';
import { type FileCommitResult, type FileMeta, StorageInDoubtError } from '../item-store';
import type { StoredItem } from '../receipts';
import type { JsConnection } from './connection';
import { filePath, ITEMS_BUCKET } from './names';
import { digestOfHex, metaSubject, purgeObject } from './objects';
import { createReceipt } from './receipts';
import { DeadlineError, retry } from './retry';

/** A file whose chunks are all stored, in order, on `$O.<bucket>.C.<nuid>`. */
export interface ObjectToCommit {
  id: string;
  nuid: string;
  /** Unique to the put attempt: the meta's message id and the receipt's attempt. */
  attempt: string;
  bytes: number;
  chunks: number;
  chunkBytes: number;
  sha256: string;
  encrypted: boolean;
  meta: FileMeta;
}

/** Writes the object's meta, then its receipt; `written.name` is the object's name once it has one. */
export async function commitObject(
  store: { conn: JsConnection; log: Logger; serverId: string; nextAttempt(): number },
  o: ObjectToCommit,
  written: { name?: string },
): Promise<FileCommitResult> {
  const { conn, log, serverId } = store;
  const { id, meta, encrypted } = o;
  if (encrypted && meta.declared !== 'age') {
    log.info(
      { sender: meta.sender, id, declared: meta.declared },
      'an age file sent as plain bytes; stored as an age file',
    );
  }
  const cleaned = meta.cleanedName;
  const fileName = encrypted && !cleaned.toLowerCase().endsWith('.age') ? `${cleaned}.age` : cleaned;
  const at = new Date();
  const name = filePath(at, serverId, store.nextAttempt(), id, fileName);
  written.name = name;
  const info = {
    name,
    bucket: ITEMS_BUCKET,
    nuid: o.nuid,
    size: o.bytes,
    chunks: o.chunks,
    mtime: at.toISOString(),
    digest: digestOfHex(o.sha256),
    deleted: false,
    options: { max_chunk_size: o.chunkBytes },
    metadata: { putId: id },
  };
  const headers = conn.libs.transport.headers();
  headers.set('Nats-Rollup', 'sub');
  const subject = metaSubject(conn, name);
  await retry(
    'object meta write',
    (timeout) => conn.js.publish(subject, JSON.stringify(info), { headers, msgID: `${o.attempt}.meta`, timeout }),
    conn.deadline,
  );
  const item: StoredItem = {
    id,
    kind: 'file',
    path: name,
    bytes: o.bytes,
    sha256: o.sha256,
    encrypted,
    receivedAt: at.toISOString(),
    sender: meta.sender,
    name: meta.name,
    serverId,
  };
  let outcome: Awaited<ReturnType<typeof createReceipt>>;
  try {
    outcome = await createReceipt(conn, { item, attempt: o.attempt });
  } catch (err) {
    // The receipt may have been created with its answer lost: the object stays (cleanup keeps it only if a
    // receipt names it), and the client's retry of the id gets whichever receipt is there.
    if (err instanceof DeadlineError) throw new StorageInDoubtError(`receipt of ${id}: ${err.message}`, { cause: err });
    throw err;
  }
  if (outcome.created) return { item, duplicate: false };
  await purgeObject(conn, o.nuid, name).catch((err) =>
    log.warn(
      { id, object: name, err: (err as Error).message },
      'could not remove the object of a put that lost its id; cleanup will',
    ),
  );
  return { item: outcome.winner.item, duplicate: true };
}
