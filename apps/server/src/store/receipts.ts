/**
 * The receipts index: `<data>/receipts/<id>.json`, one file per put id, created exclusively (`O_EXCL`) so
 * that across processes sharing the directory the first writer of an id wins. It is what duplicate puts are
 * answered from and what `list` reads.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
const PARTIAL_RETRIES = 5;
const PARTIAL_WAIT_MS = 10;

/**
 * Reads a receipt file. A receipt is created and written in one go by one process, so another process can find
 * it empty or partly written for an instant: such a file is read again a few times before it counts as damaged.
 */
export async function readReceiptFile(path: string): Promise<StoredItem> {
  for (let attempt = 0; ; attempt++) {
    const text = await readFile(path, 'utf8');
    try {
      return JSON.parse(text) as StoredItem;
    } catch (err) {
      if (attempt >= PARTIAL_RETRIES) throw new Error(`damaged receipt ${path}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, PARTIAL_WAIT_MS));
    }
  }
}

/**
 * Every item received into `dataDir`, oldest first. Unreadable entries are skipped: a receipt being written by
 * a running server at that instant.
 */
export async function listReceived(dataDir: string): Promise<StoredItem[]> {
  let names: string[];
  try {
    names = await readdir(layout(dataDir).receipts);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const items: StoredItem[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      items.push(JSON.parse(await readFile(join(layout(dataDir).receipts, name), 'utf8')) as StoredItem);
    } catch {
      // skipped: see above
    }
  }
  return items.sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : a.id.localeCompare(b.id)));
}
