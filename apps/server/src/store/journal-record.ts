/**
 * The bytes of a journal segment (`journal/<serverId>.<n>.log`): what the store appends and fdatasyncs before it
 * acknowledges a batch of items, and what start-up recovery reads back (./recovery.ts).
 *
 *   segment = MAGIC record*
 *   record  = u32 BE header length | u32 BE data length | SHA-256 of (header ‖ data), 32 bytes | header | data
 *   header  = UTF-8 JSON `{ "item": <the receipt, as in receipts/<id>.json>, "inline": true | false }`
 *   data    = the item's bytes when `inline` (dictionaries); empty otherwise (files: their bytes are already in
 *             a fsynced file linked under its final name before the record is appended)
 *
 * Segments are created full of zeros (so that an append changes no file size and its fdatasync no metadata),
 * and a header length of 0 marks where the records end. Records are only ever appended, so a crash can leave
 * at most the last one torn: decoding stops at the first record that does not fit in the bytes read or whose
 * SHA-256 does not match, and everything before it is good.
 * The decoder is pure: bytes in, records out.
 */
import { createHash } from 'node:crypto';
import type { StoredItem } from './receipts';

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

/** One record's bytes. */
export function encodeRecord(record: JournalRecord): Buffer {
  const header = Buffer.from(JSON.stringify({ item: record.item, inline: record.data !== undefined }));
  const data = record.data ?? new Uint8Array(0);
  const out = Buffer.allocUnsafe(RECORD_PREFIX_BYTES + header.length + data.length);
  out.writeUInt32BE(header.length, 0);
  out.writeUInt32BE(data.length, 4);
  header.copy(out, RECORD_PREFIX_BYTES);
  out.set(data, RECORD_PREFIX_BYTES + header.length);
  createHash('sha256').update(out.subarray(RECORD_PREFIX_BYTES)).digest().copy(out, 8);
  return out;
}

export interface DecodedSegment {
  records: JournalRecord[];
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
  let at = JOURNAL_MAGIC.length;
  while (at < buf.length) {
    if (isZero(buf.subarray(at, at + 8))) break; // the zeros after the last record
    if (buf.length - at < RECORD_PREFIX_BYTES) return { records, goodBytes: at, stoppedAt: 'torn' };
    const headerLength = buf.readUInt32BE(at);
    const dataLength = buf.readUInt32BE(at + 4);
    if (headerLength > MAX_HEADER_BYTES) return { records, goodBytes: at, stoppedAt: 'header' };
    const end = at + RECORD_PREFIX_BYTES + headerLength + dataLength;
    if (end > buf.length) return { records, goodBytes: at, stoppedAt: 'torn' };
    const body = buf.subarray(at + RECORD_PREFIX_BYTES, end);
    if (!createHash('sha256').update(body).digest().equals(buf.subarray(at + 8, at + RECORD_PREFIX_BYTES))) {
      return { records, goodBytes: at, stoppedAt: 'checksum' };
    }
    const header = parseHeader(body.subarray(0, headerLength));
    if (header === undefined) return { records, goodBytes: at, stoppedAt: 'header' };
    records.push(header.inline ? { item: header.item, data: Uint8Array.prototype.slice.call(body, headerLength) } : { item: header.item });
    at = end;
  }
  return { records, goodBytes: at };
}

function isZero(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

function parseHeader(bytes: Uint8Array): { item: StoredItem; inline: boolean } | undefined {
  try {
    const value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null) return undefined;
    const { item, inline } = value as { item?: unknown; inline?: unknown };
    if (typeof inline !== 'boolean' || !isStoredItem(item)) return undefined;
    return { item, inline };
  } catch {
    return undefined;
  }
}

/** A stored item's path as the store writes it (`items/<day>/<HHMMSS>-…`): never `..`, never deeper. */
const ITEM_PATH = /^items\/\d{4}-\d{2}-\d{2}\/\d{6}-[^/]+$/;

/** The fields recovery relies on: an id, a path under `items/`, a size and a hash. */
function isStoredItem(value: unknown): value is StoredItem {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['id'] === 'string' &&
    typeof v['path'] === 'string' &&
    ITEM_PATH.test(v['path']) &&
    (v['plaintextPath'] === undefined || (typeof v['plaintextPath'] === 'string' && ITEM_PATH.test(v['plaintextPath']))) &&
    typeof v['bytes'] === 'number' &&
    typeof v['sha256'] === 'string'
  );
}
