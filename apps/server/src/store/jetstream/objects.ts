/**
 * Files in the cluster's object store, in the layout of the NATS object store (so `nats object get` reads them
 * too): chunks on `$O.<bucket>.C.<nuid>`, then one meta message on `$O.<bucket>.M.<base64url(name)>` naming the
 * nuid, size, chunk count and SHA-256. Reads go chunk by chunk through Direct Get (`next_by_subj`), never through
 * a consumer (nats-server #7165); a miss is asked again of the stream's leader. The writer is ./object-sink.ts.
 */
import { Readable } from 'node:stream';
import type { StoredMsg } from '@nats-io/jetstream';
import { StorageError } from '@proj/protocol';
import type { JsConnection } from './connection';
import { ITEMS_BUCKET } from './names';
import { retry } from './retry';

/** The object store's meta message, as the NATS object store writes it. */
export interface ObjectMeta {
  name: string;
  bucket: string;
  nuid: string;
  size: number;
  chunks: number;
  mtime: string;
  /** `SHA-256=` and the digest in padded base64url. */
  digest: string;
  deleted: boolean;
  options?: { max_chunk_size?: number };
  /** The put id the object was stored for (cleanup checks its receipt). */
  metadata?: Record<string, string>;
}

export function metaSubject(conn: JsConnection, name: string): string {
  return `${conn.itemsPrefix}.M.${conn.libs.obj.Base64UrlPaddedCodec.encode(name)}`;
}

export function chunkSubject(conn: JsConnection, nuid: string): string {
  return `${conn.itemsPrefix}.C.${nuid}`;
}

/** The SHA-256 in hex as the object store's digest. */
export function digestOfHex(sha256: string): string {
  return `SHA-256=${Buffer.from(sha256, 'hex').toString('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;
}

function notFound(err: unknown): null {
  if ((err as { code?: unknown }).code === 10037 || (err as { name?: string }).name === 'NotFoundError') return null;
  throw err;
}

/**
 * A message of the items stream by Direct Get, which any replica answers. A replica that has not applied the
 * latest writes yet may say there is none (an object read just after its commit): a miss is asked again of the
 * stream's leader, through the stream message API.
 */
async function getMessage(
  conn: JsConnection,
  query: { last_by_subj: string } | { seq: number; next_by_subj: string },
): Promise<StoredMsg | null> {
  const direct = await retry(
    'object read',
    () => conn.jsm.direct.getMessage(conn.itemsStream, query),
    conn.deadline,
  ).catch(notFound);
  if (direct !== null) return direct;
  return retry('object read', () => conn.jsm.streams.getMessage(conn.itemsStream, query), conn.deadline).catch(
    notFound,
  );
}

/** The last message on `subject` of the items stream, or null. */
function lastOn(conn: JsConnection, subject: string): Promise<StoredMsg | null> {
  return getMessage(conn, { last_by_subj: subject });
}

/** An object's meta, or undefined when there is none (or it was deleted). */
export async function readObjectMeta(conn: JsConnection, name: string): Promise<ObjectMeta | undefined> {
  const m = await lastOn(conn, metaSubject(conn, name));
  if (m === null) return undefined;
  const meta = m.json<ObjectMeta>();
  return meta.deleted ? undefined : meta;
}

/** An object's chunks in order, each read by Direct Get after the sequence of the one before. */
export async function* readChunks(conn: JsConnection, meta: ObjectMeta): AsyncGenerator<Buffer> {
  const subject = chunkSubject(conn, meta.nuid);
  let seq = 0;
  for (let i = 0; i < meta.chunks; i++) {
    const from = seq + 1;
    const m = await getMessage(conn, { seq: from, next_by_subj: subject });
    if (m === null) throw new StorageError(`object ${meta.name}: chunk ${i + 1} of ${meta.chunks} missing`);
    seq = m.seq;
    yield Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  }
}

/** An object's bytes as a stream. */
export function objectReader(conn: JsConnection, name: string): Readable {
  return Readable.from(
    (async function* () {
      const meta = await readObjectMeta(conn, name);
      if (meta === undefined) throw new StorageError(`no object ${name} in ${ITEMS_BUCKET}`);
      yield* readChunks(conn, meta);
    })(),
    { objectMode: false },
  );
}

/** Removes an object's chunks and its meta; nothing of it is left in the stream. */
export async function purgeObject(conn: JsConnection, nuid: string, name: string | undefined): Promise<void> {
  await retry(
    'object purge',
    () => conn.jsm.streams.purge(conn.itemsStream, { filter: chunkSubject(conn, nuid) }),
    conn.deadline,
  );
  if (name !== undefined) {
    const filter = metaSubject(conn, name);
    await retry('object purge', () => conn.jsm.streams.purge(conn.itemsStream, { filter }), conn.deadline);
  }
}
