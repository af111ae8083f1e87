/**
 * What the store hands a commit (./group-commit.ts) for one item, and the receipt the commit makes of it: where
 * the item lies under `items/<day>/`, and what the client sent (docs/SERVER.md §4).
 */
import { ITEMS_DIR } from './paths';
import type { StoredItem } from './receipts';
import { isoTime } from '../iso-time';

/** One item to commit, as the store hands it over (./store.ts, ./file-sink.ts). */
export interface CommitInput {
  id: string;
  kind: 'dict' | 'file';
  /** A complete, fsynced temporary holding exactly the client's bytes (or `data` instead). */
  tempPath?: string;
  /** The client's bytes, written to a temporary and fsynced as part of the commit (small items). */
  data?: Uint8Array;
  /** Cleaned name with its extension, e.g. `report.txt.age` or `dict.json`. */
  fileName: string;
  bytes: number;
  sha256: string;
  format?: 'json' | 'xml' | 'protobuf';
  encrypted: boolean;
  sender: string;
  /** The client's file name as sent. */
  name?: string;
  /** A fsynced temporary with the decrypted plaintext, to store beside the item. */
  plaintext?: { tempPath: string; fileName: string };
}

/** Where a commit placed an item: its day directory, the names it took there, and when. */
export interface Placement {
  day: string;
  at: Date;
  serverId: string;
  itemName: string;
  plainName: string | undefined;
}

/** The receipt of an item committed at `placement`. */
export function storedItem(input: CommitInput, placement: Placement): StoredItem {
  const { day, at, serverId, itemName, plainName } = placement;
  return {
    id: input.id,
    kind: input.kind,
    path: `${ITEMS_DIR}/${day}/${itemName}`,
    bytes: input.bytes,
    sha256: input.sha256,
    ...(input.format !== undefined ? { format: input.format } : {}),
    encrypted: input.encrypted,
    receivedAt: isoTime(at),
    sender: input.sender,
    ...(input.name !== undefined ? { name: input.name } : {}),
    serverId,
    ...(plainName !== undefined ? { plaintextPath: `${ITEMS_DIR}/${day}/${plainName}` } : {}),
  };
}
