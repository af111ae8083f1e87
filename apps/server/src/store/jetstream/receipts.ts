/**
 * Receipts in the cluster: one KV entry per put id (key: ./names.ts keyOfId), created with `create`, which only
 * the first writer of a key gets through (as `O_EXCL` does locally). The entry holds the receipt as JSON, the
 * attempt that wrote it, and, for a dictionary, the dictionary itself (one replicated write per dictionary):
 *
 *   uint32 big-endian length of the JSON | JSON { item, attempt } | the dictionary's bytes (dictionaries only)
 *
 * Reads go through Direct Get (any replica answers; the library's consumer-based reads time out while a node is
 * down: nats-server #7165). Every call is retried until its deadline (./retry.ts).
 */
import { StorageError } from '@proj/protocol';
import { isStoredItem, type StoredItem } from '../receipts';
import type { JsConnection } from './connection';
import { idOfKey, keyOfId, RECEIPTS_BUCKET } from './names';
import { retry } from './retry';

/** What a receipt entry holds. */
export interface ReceiptEntry {
  item: StoredItem;
  /** Unique to the put attempt that wrote it: a retried `create` recognises its own entry by it. */
  attempt: string;
  /** A dictionary's bytes. */
  data?: Buffer;
}

/** A receipt entry that cannot be read as a receipt of its id. */
export interface DamagedEntry {
  id: string;
  /** Where it is: `kv:<bucket>/<key>`. */
  receipt: string;
  problem: string;
}

/** JetStream's answer to a `create` of a key that exists. */
const WRONG_LAST_SEQUENCE = 10071;

export function encodeEntry(entry: ReceiptEntry): Uint8Array {
  const json = Buffer.from(JSON.stringify({ item: entry.item, attempt: entry.attempt }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([length, json, entry.data ?? Buffer.alloc(0)]);
}

/** An entry's bytes as the receipt of `id`, or what is wrong with them. */
export function decodeEntry(bytes: Uint8Array, id: string): ReceiptEntry | { problem: string } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 4) return { problem: buffer.length === 0 ? 'empty' : 'truncated' };
  const length = buffer.readUInt32BE(0);
  if (4 + length > buffer.length) return { problem: 'truncated' };
  let value: unknown;
  try {
    value = JSON.parse(buffer.subarray(4, 4 + length).toString('utf8'));
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
  const v = value as { item?: unknown; attempt?: unknown };
  if (!isStoredItem(v.item) || typeof v.attempt !== 'string') return { problem: 'not a receipt entry' };
  if (v.item.id !== id) return { problem: `holds id ${JSON.stringify(v.item.id.slice(0, 140))}` };
  const data = buffer.subarray(4 + length);
  return { item: v.item, attempt: v.attempt, ...(v.item.kind === 'dict' ? { data: Buffer.from(data) } : {}) };
}

function entryOrThrow(bytes: Uint8Array, id: string, key: string): ReceiptEntry {
  const entry = decodeEntry(bytes, id);
  if ('problem' in entry) throw new StorageError(`damaged receipt kv:${RECEIPTS_BUCKET}/${key}: ${entry.problem}`);
  return entry;
}

/** The receipt entry of `id`, if any. */
export async function getReceipt(conn: JsConnection, id: string): Promise<ReceiptEntry | undefined> {
  const key = keyOfId(id);
  const found = await retry('receipt lookup', () => conn.receipts.get(key), conn.deadline);
  if (found === null || found.operation !== 'PUT') return undefined;
  return entryOrThrow(found.value, id, key);
}

/**
 * The receipt entry of `id` as the bucket's leader has it (the stream message API): for a read that must see a
 * receipt just created, which a replica answering a Direct Get may not have applied yet.
 */
export async function getReceiptFromLeader(conn: JsConnection, id: string): Promise<ReceiptEntry | undefined> {
  return (await getLeaderRevision(conn, id))?.entry;
}

/**
 * The receipt entry of `id` as the leader has it, with its revision (the stream sequence a compare-and-delete
 * names), or undefined when the key holds no receipt.
 */
export async function getLeaderRevision(
  conn: JsConnection,
  id: string,
): Promise<{ entry: ReceiptEntry; revision: number } | undefined> {
  const key = keyOfId(id);
  const m = await retry(
    'receipt lookup',
    () => conn.jsm.streams.getMessage(`KV_${RECEIPTS_BUCKET}`, { last_by_subj: `$KV.${RECEIPTS_BUCKET}.${key}` }),
    conn.deadline,
  ).catch((err) => {
    if ((err as { code?: unknown }).code === 10037 || (err as { name?: string }).name === 'NotFoundError') return null;
    throw err;
  });
  const op = m?.header?.get('KV-Operation');
  if (m === null || op === 'DEL' || op === 'PURGE') return undefined;
  return { entry: entryOrThrow(m.data, id, key), revision: m.seq };
}

/**
 * Deletes the receipt of `item.id` if it is still the one naming `item` (a compare-and-delete on its revision: a
 * receipt stored anew meanwhile stays). Returns false when no receipt named `item` any more. From the delete on,
 * a `create` of the key succeeds: the id is free.
 */
export async function deleteReceipt(conn: JsConnection, item: StoredItem): Promise<boolean> {
  const key = keyOfId(item.id);
  for (;;) {
    const current = await getLeaderRevision(conn, item.id);
    if (current === undefined || current.entry.item.path !== item.path) return false;
    try {
      await retry('receipt delete', () => conn.receipts.delete(key, { previousSeq: current.revision }), conn.deadline);
      return true;
    } catch (err) {
      // Written meanwhile (or a retried delete whose first try landed): read it again and decide anew.
      if ((err as { code?: unknown }).code !== WRONG_LAST_SEQUENCE) throw err;
    }
  }
}

/**
 * Creates `entry` unless its id has a receipt already. `created` is false when another attempt came first; its
 * entry is the `winner`. A `create` retried after a lost answer finds its own entry and counts as created.
 */
export async function createReceipt(
  conn: JsConnection,
  entry: ReceiptEntry,
): Promise<{ created: boolean; winner: ReceiptEntry }> {
  const key = keyOfId(entry.item.id);
  try {
    await retry('receipt create', () => conn.receipts.create(key, encodeEntry(entry)), conn.deadline);
    return { created: true, winner: entry };
  } catch (err) {
    if ((err as { code?: unknown }).code !== WRONG_LAST_SEQUENCE) throw err;
  }
  const winner = await getReceipt(conn, entry.item.id);
  if (winner === undefined) throw new StorageError(`receipt of ${entry.item.id} refused but not found`);
  return { created: winner.attempt === entry.attempt, winner };
}

/**
 * Every receipt: the readable ones, oldest first, and the damaged ones. Keys come from the stream's subject
 * index (a request to the stream leader, not a consumer), entries through Direct Get, 32 at a time.
 */
export async function listReceiptEntries(
  conn: JsConnection,
): Promise<{ entries: ReceiptEntry[]; damaged: DamagedEntry[] }> {
  const stream = `KV_${RECEIPTS_BUCKET}`;
  const prefix = `$KV.${RECEIPTS_BUCKET}.`;
  const info = await retry(
    'receipt list',
    () => conn.jsm.streams.info(stream, { subjects_filter: `${prefix}>` }),
    conn.deadline,
  );
  const keys = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length));
  const entries: ReceiptEntry[] = [];
  const damaged: DamagedEntry[] = [];
  for (let i = 0; i < keys.length; i += 32) {
    await Promise.all(
      keys.slice(i, i + 32).map(async (key) => {
        const id = idOfKey(key);
        const where = `kv:${RECEIPTS_BUCKET}/${key}`;
        if (id === undefined) {
          damaged.push({ id: key, receipt: where, problem: 'key is not an encoded put id' });
          return;
        }
        const found = await retry('receipt read', () => conn.receipts.get(key), conn.deadline);
        if (found === null) {
          // The leader listed the key, and the replica that answered has not applied it yet (a receipt created a
          // moment ago): the leader's entry, as find(id) reads it.
          const fromLeader = await getLeaderRevision(conn, id);
          if (fromLeader) entries.push(fromLeader.entry);
          return;
        }
        if (found.operation !== 'PUT') return;
        const entry = decodeEntry(found.value, id);
        if ('problem' in entry) damaged.push({ id, receipt: where, problem: entry.problem });
        else entries.push(entry);
      }),
    );
  }
  entries.sort((a, b) =>
    a.item.receivedAt < b.item.receivedAt
      ? -1
      : a.item.receivedAt > b.item.receivedAt
        ? 1
        : a.item.id.localeCompare(b.item.id),
  );
  return { entries, damaged };
}
