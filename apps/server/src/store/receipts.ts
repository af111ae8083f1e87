/**
 * The receipts index: `<data>/receipts/<id>.json`, one file per put id, created exclusively (`O_EXCL`) so
 * that across processes sharing the directory the first writer of an id wins. It is what duplicate puts are
 * answered from and what `list` reads.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Receipt } from '@proj/protocol';
import { layout, receiptFileName } from './paths';

/** What the server records of each stored item. */
export interface StoredItem {
  id: string;
  kind: 'dict' | 'file';
  /** Stored path, relative to the data directory, `/`-separated. */
  path: string;
  /** Size and SHA-256 of the stored bytes (the bytes the client sent). */
  bytes: number;
  sha256: string;
  /** Dictionary format. */
  format?: 'json' | 'xml' | 'protobuf';
  /** Whether the stored bytes are an age file. */
  encrypted: boolean;
  /** ISO 8601 UTC time of the first store. */
  receivedAt: string;
  /** Client address, `host:port`. */
  sender: string;
  /** The client's file name, as sent (files only). */
  name?: string;
  /** Server process that stored it. */
  serverId: string;
  /** Stored plaintext of an encrypted file, when the server saved it. */
  plaintextPath?: string;
  /**
   * Set on a receipt rebuilt after it was found damaged (./receipt-repair.ts). `shaFrom: 'receipt'`: the SHA-256
   * the client was given survived in the damaged file and the item still matches it; `'item'`: computed from the
   * item as found, which is what the client was given only if the item was not damaged as well.
   */
  rebuilt?: { at: string; shaFrom: 'receipt' | 'item' };
}

/** A receipt file that cannot be read as a receipt of its id. */
export interface DamagedReceiptFile {
  /** The put id, from the file name. */
  id: string;
  /** Absolute path of the receipt file. */
  file: string;
  /** Its text, as read (may be empty). */
  text: string;
  /** What is wrong with it. */
  problem: string;
}

/** A receipt file (`receipts/<id>.json`) that does not hold a readable receipt of its id. */
export class ReceiptDamagedError extends Error {
  readonly code = 'ERR_RECEIPT_DAMAGED';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`damaged receipt ${file}: ${problem}`);
  }
}

/** A stored item's path as the store writes it (`items/<day>/<HHMMSS>-…`): never `..`, never deeper. */
const ITEM_PATH = /^items\/\d{4}-\d{2}-\d{2}\/\d{6}-[^/]+$/;

/** The fields recovery and `list` rely on: an id, a path under `items/`, a size and a hash. */
export function isStoredItem(value: unknown): value is StoredItem {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'string' &&
    typeof v.path === 'string' &&
    ITEM_PATH.test(v.path) &&
    (v.plaintextPath === undefined || (typeof v.plaintextPath === 'string' && ITEM_PATH.test(v.plaintextPath))) &&
    typeof v.bytes === 'number' &&
    typeof v.sha256 === 'string'
  );
}

/** The put id a receipt file name stands for (`a%3Ab.json` → `a:b`), or undefined for other names. */
export function idOfReceiptFileName(fileName: string): string | undefined {
  return fileName.endsWith('.json') ? fileName.slice(0, -'.json'.length).replace(/%3A/g, ':') : undefined;
}

/** A receipt file's text as the receipt of `id`, or what is wrong with it. */
export function parseReceipt(text: string, id: string): StoredItem | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problem: text.length === 0 ? 'empty' : `not JSON (${(err as Error).message})` };
  }
  if (!isStoredItem(value)) return { problem: 'not a receipt (id, path, bytes or sha256 missing or malformed)' };
  if (value.id !== id) return { problem: `holds id ${JSON.stringify(value.id.slice(0, 140))}` };
  return value;
}

/** A receipt file's text. */
export function receiptText(item: StoredItem): string {
  return `${JSON.stringify(item, null, 2)}\n`;
}

/** The wire receipt for a stored item. */
export function toReceipt(item: StoredItem, duplicate: boolean): Receipt {
  return {
    type: 'receipt',
    id: item.id,
    kind: item.kind,
    path: item.path,
    bytes: item.bytes,
    sha256: item.sha256,
    ...(item.format !== undefined ? { format: item.format } : {}),
    encrypted: item.encrypted,
    receivedAt: item.receivedAt,
    duplicate,
  };
}

/** The stored item under `id`, or undefined. */
export async function readReceipt(dataDir: string, id: string): Promise<StoredItem | undefined> {
  try {
    return await readReceiptFile(join(layout(dataDir).receipts, receiptFileName(id)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** How long a receipt that does not parse is read again, in case another process is writing it right now. */
export const PARTIAL_RETRIES = 5;
export const PARTIAL_WAIT_MS = 10;

/**
 * Reads a receipt file. A receipt is created and written in one go by one process, so another process can find
 * it empty or partly written for an instant: such a file is read again a few times before it counts as damaged
 * (ReceiptDamagedError, ERR_RECEIPT_DAMAGED). A missing file throws ENOENT.
 */
export async function readReceiptFile(path: string): Promise<StoredItem> {
  const id = idOfReceiptFileName(basename(path)) ?? '';
  for (let attempt = 0; ; attempt++) {
    const parsed = parseReceipt(await readFile(path, 'utf8'), id);
    if (!('problem' in parsed)) return parsed;
    if (attempt >= PARTIAL_RETRIES) throw new ReceiptDamagedError(path, parsed.problem);
    await new Promise((r) => setTimeout(r, PARTIAL_WAIT_MS));
  }
}

/**
 * Every receipt of `dataDir`: the readable ones, oldest first, and the damaged ones (a file still unreadable
 * after a few tries; see readReceiptFile). A damaged receipt still names an id that was acknowledged: its item
 * must be kept (./receipt-repair.ts rebuilds what it can).
 */
export async function listReceipts(dataDir: string): Promise<{ items: StoredItem[]; damaged: DamagedReceiptFile[] }> {
  const dir = layout(dataDir).receipts;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { items: [], damaged: [] };
    throw err;
  }
  const items: StoredItem[] = [];
  const damaged: DamagedReceiptFile[] = [];
  for (const name of names) {
    const id = idOfReceiptFileName(name);
    if (id === undefined) continue;
    const file = join(dir, name);
    try {
      // Synchronous first: at start-up every receipt is read, and a synchronous read of a small file costs a
      // tenth of an asynchronous one (20,000 receipts: 0.35 s against 3.5 s). Only a failure waits and retries.
      const parsed = parseReceipt(readFileSync(file, 'utf8'), id);
      items.push('problem' in parsed ? await readReceiptFile(file) : parsed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile (a put that lost)
      if (!(err instanceof ReceiptDamagedError)) throw err;
      damaged.push({ id, file, text: await readFile(file, 'utf8').catch(() => ''), problem: err.problem });
    }
  }
  items.sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : a.id.localeCompare(b.id)));
  return { items, damaged };
}

/** Every item received into `dataDir` with a readable receipt, oldest first (`listReceipts` also gives the damaged). */
export async function listReceived(dataDir: string): Promise<StoredItem[]> {
  return (await listReceipts(dataDir)).items;
}
