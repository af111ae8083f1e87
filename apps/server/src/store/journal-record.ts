/**
 * The bytes of a journal segment (`journal/<serverId>.<n>.log`): what the store appends and fdatasyncs before it
 * acknowledges a batch of items, and what start-up recovery reads back (./recovery.ts).
 *
 *   segment = MAGIC record*
 *   record  = u32 BE header length | u32 BE data length | SHA-256 of (header ‖ data), 32 bytes | header | data
 *   header  = UTF-8 JSON `{ "item": <the receipt, as in receipts/<id>.json>, "inline": true | false }`
 *           | UTF-8 JSON `{ "abort": { "id": <put id>, "path": <the item's path> } }`
 *   data    = the item's bytes when `inline` (dictionaries); empty otherwise (files: their bytes are already in
 *             a fsynced file linked under its final name before the record is appended; aborts)
 *
 * An abort record withdraws an earlier item record (the same path) of the same server: its commit failed after
 * the record was durable, the client is told ERR_STORAGE, and replay must not bring the item back.
 *
 * Segments are created full of zeros (so that an append changes no file size and its fdatasync no metadata),
 * and a header length of 0 marks where the records end. Records are only ever appended, so a crash can leave
 * at most the last one torn: decoding stops at the first record that does not fit in the bytes read or whose
 * SHA-256 does not match, and everything before it is good.
 * The decoder is pure: bytes in, records out.
 */
import { createHash, hash } from 'node:crypto';
import { isStoredItem, type StoredItem } from './receipts';

/** The first bytes of every segment: `PJOURNL` and the format version 1. */
export const JOURNAL_MAGIC = Buffer.from('PJOURNL\x01', 'latin1');
/** Fixed part of a record: two lengths and a SHA-256. */
export const RECORD_PREFIX_BYTES = 4 + 4 + 32;
/** Longest header accepted when reading back (a receipt is well under 2 KiB). */
export const MAX_HEADER_BYTES = 64 * 1024;

export interface JournalRecord {
  /** The receipt of the item, naming its final path. */
  item: StoredItem;
  /** The item's bytes, for items whose only durable copy before the acknowledgement is this record. */
  data?: Uint8Array;
}

/** An item record withdrawn: the put `id`, whose item was placed at `path`, was answered ERR_STORAGE. */
export interface JournalAbort {
  id: string;
  path: string;
}

/** One record's bytes. */
export function encodeRecord(record: JournalRecord): Buffer {
  return encodeBody(
    Buffer.from(JSON.stringify({ item: record.item, inline: record.data !== undefined })),
    record.data ?? new Uint8Array(0),
  );
}

/** One abort record's bytes. */
export function encodeAbort(abort: JournalAbort): Buffer {
  return encodeBody(Buffer.from(abortHeader(abort)), new Uint8Array(0));
}

/** How many bytes `encodeAbort(abort)` makes, without making them (the room a batch reserves for its aborts). */
export function abortRecordBytes(abort: JournalAbort): number {
  return RECORD_PREFIX_BYTES + Buffer.byteLength(abortHeader(abort));
}

function abortHeader(abort: JournalAbort): string {
  return JSON.stringify({ abort: { id: abort.id, path: abort.path } });
}

function encodeBody(header: Buffer, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(RECORD_PREFIX_BYTES + header.length + data.length);
  out.writeUInt32BE(header.length, 0);
  out.writeUInt32BE(data.length, 4);
  header.copy(out, RECORD_PREFIX_BYTES);
  out.set(data, RECORD_PREFIX_BYTES + header.length);
  hash('sha256', out.subarray(RECORD_PREFIX_BYTES), 'buffer').copy(out, 8);
  return out;
}

export interface DecodedSegment {
  records: JournalRecord[];
  /** Item records withdrawn by abort records of this segment (they may stand in an earlier segment); absent when none. */
  aborts?: JournalAbort[];
  /** Bytes of the segment that hold the magic and whole, intact records. */
  goodBytes: number;
  /** Why decoding stopped before the end, if it did: a torn or damaged last record, or not a segment at all. */
  stoppedAt?: 'magic' | 'torn' | 'checksum' | 'header';
}

/** The intact records of a segment, in the order they were appended. */
export function decodeSegment(bytes: Uint8Array): DecodedSegment {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < JOURNAL_MAGIC.length || !buf.subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC)) {
    return { records: [], goodBytes: 0, stoppedAt: 'magic' };
  }
  const records: JournalRecord[] = [];
  const aborts: JournalAbort[] = [];
  let at = JOURNAL_MAGIC.length;
  while (at < buf.length) {
    if (isZero(buf.subarray(at, at + 8))) break; // the zeros after the last record
    if (buf.length - at < RECORD_PREFIX_BYTES)
      return { records, ...withAborts(aborts), goodBytes: at, stoppedAt: 'torn' };
    const headerLength = buf.readUInt32BE(at);
    const dataLength = buf.readUInt32BE(at + 4);
    if (headerLength > MAX_HEADER_BYTES) return { records, ...withAborts(aborts), goodBytes: at, stoppedAt: 'header' };
    const end = at + RECORD_PREFIX_BYTES + headerLength + dataLength;
    if (end > buf.length) return { records, ...withAborts(aborts), goodBytes: at, stoppedAt: 'torn' };
    const body = buf.subarray(at + RECORD_PREFIX_BYTES, end);
    if (
      !createHash('sha256')
        .update(body)
        .digest()
        .equals(buf.subarray(at + 8, at + RECORD_PREFIX_BYTES))
    ) {
      return { records, ...withAborts(aborts), goodBytes: at, stoppedAt: 'checksum' };
    }
    const header = parseHeader(body.subarray(0, headerLength));
    if (header === undefined) return { records, ...withAborts(aborts), goodBytes: at, stoppedAt: 'header' };
    if ('abort' in header) aborts.push(header.abort);
    else
      records.push(
        header.inline
          ? { item: header.item, data: Uint8Array.prototype.slice.call(body, headerLength) }
          : { item: header.item },
      );
    at = end;
  }
  return { records, ...withAborts(aborts), goodBytes: at };
}

function withAborts(aborts: JournalAbort[]): { aborts?: JournalAbort[] } {
  return aborts.length > 0 ? { aborts } : {};
}

function isZero(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

function parseHeader(bytes: Uint8Array): { item: StoredItem; inline: boolean } | { abort: JournalAbort } | undefined {
  try {
    const value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null) return undefined;
    const { item, inline, abort } = value as { item?: unknown; inline?: unknown; abort?: unknown };
    if (abort !== undefined) {
      const a = abort as Partial<JournalAbort> | null;
      return typeof a === 'object' && a !== null && typeof a.id === 'string' && typeof a.path === 'string'
        ? { abort: { id: a.id, path: a.path } }
        : undefined;
    }
    if (typeof inline !== 'boolean' || !isStoredItem(item)) return undefined;
    return { item, inline };
  } catch {
    return undefined;
  }
}
