/**
 * Damaged receipts: a `receipts/<id>.json` that is empty, cut short or corrupted still says that the id was
 * acknowledged, so its item is never removed because of it (./cleanup.ts keeps every item that may be its). At
 * start (and at `list`), after journal replay (which rewrites a damaged receipt from its record while the record
 * is there), each damaged receipt is rebuilt from its item where that is unambiguous:
 *
 * - the item is found by name: `items/<day>/<HHMMSS>-<serverId>-[n~]<id>-<name>` with the receipt's id, and no
 *   readable receipt pointing to it; exactly one such item (or one `.age` file and its saved plaintext), or the
 *   one the damaged file's surviving `"path"` names;
 * - size and SHA-256 are computed from the item. What survives of the damaged file (fields that can still be
 *   read in it) is kept; if it still shows a size or SHA-256 and the item does not match them, the item is not
 *   what the client was told was stored, and nothing is rebuilt;
 * - the rebuilt receipt says so (`rebuilt.shaFrom`): `receipt` when the SHA-256 the client was given survived and
 *   the item matches it; `item` when it was computed from the item alone: what the client was given only if the
 *   item was not damaged as well. The time comes from the item's name (to the second) unless it survived; the
 *   sender and the client's file name are kept only if they survived (`unknown` otherwise).
 *
 * Otherwise (no item, several candidates, a mismatch, or an item of a server still running) the receipt and the
 * items are left as they are and reported: in the log, and by `list`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger';
import { readdirOrEmpty } from './cleanup';
import { createFile, removeIfThere } from './durable';
import type { Owners } from './liveness';
import { idForName, ITEMS_DIR, layout, nameHoldsId, RECEIPTS_DIR, serverIdOfItemName } from './paths';
import { listAcknowledged } from './journal-index';
import { receiptText, type DamagedReceiptFile, type StoredItem } from './receipts';
import { fsyncPaths } from './sync-fs';
import { isoTime } from '../iso-time';

/** A damaged receipt that stays damaged, and the items that may be its (kept). */
export interface DamagedReceipt {
  id: string;
  /** The receipt file, relative to the data directory. */
  receipt: string;
  /** What is wrong with the receipt file. */
  problem: string;
  /** Why it was not rebuilt. */
  unrepaired: string;
  /** Items that may be this id's, relative to the data directory. */
  items: string[];
}

/**
 * Every acknowledged item (receipt files, and receipts still only in a journal: ./journal-index.ts) and every
 * damaged receipt with the items that may be its: reads only.
 */
export async function findDamaged(
  dataDir: string,
): Promise<{ items: StoredItem[]; damaged: Array<DamagedReceiptFile & { candidates: string[] }> }> {
  const { items, damaged } = await listAcknowledged(dataDir);
  if (damaged.length === 0) return { items, damaged: [] };
  const referenced = new Set<string>();
  for (const item of items) {
    referenced.add(item.path);
    if (item.plaintextPath) referenced.add(item.plaintextPath);
  }
  const byName = new Map(damaged.map((d) => [idForName(d.id), [] as string[]]));
  const dir = layout(dataDir).items;
  for (const day of await readdirOrEmpty(dir)) {
    for (const name of await readdirOrEmpty(join(dir, day))) {
      const rel = `${ITEMS_DIR}/${day}/${name}`;
      if (referenced.has(rel)) continue;
      for (const [idName, list] of byName) if (nameHoldsId(name, idName)) list.push(rel);
    }
  }
  return { items, damaged: damaged.map((d) => ({ ...d, candidates: byName.get(idForName(d.id)) ?? [] })) };
}

/** Rebuilds what it can (see the top of this file); returns the receipts left damaged. */
export async function repairReceipts(
  dataDir: string,
  currentServerId: string,
  owners: Owners,
  log: Logger,
): Promise<{ rebuilt: number; damaged: DamagedReceipt[] }> {
  const { damaged } = await findDamaged(dataDir);
  let rebuilt = 0;
  let counter = 0;
  const left: DamagedReceipt[] = [];
  for (const d of damaged) {
    const receipt = `${RECEIPTS_DIR}/${d.file.split(/[\\/]/).pop() as string}`;
    const outcome = await rebuild(dataDir, d, owners);
    if ('item' in outcome) {
      const temp = join(layout(dataDir).tmp, `${currentServerId}.k${++counter}.receipt`);
      try {
        createFile(temp, receiptText(outcome.item));
        await fsyncPaths([temp]);
        renameSync(temp, d.file);
      } finally {
        removeIfThere(temp);
      }
      await fsyncPaths([layout(dataDir).receipts]);
      rebuilt += 1;
      log.warn(
        { id: d.id, receipt, problem: d.problem, path: outcome.item.path, shaFrom: outcome.item.rebuilt?.shaFrom },
        'rebuilt a damaged receipt from its item',
      );
      continue;
    }
    left.push({ id: d.id, receipt, problem: d.problem, unrepaired: outcome.unrepaired, items: d.candidates });
    log.error(
      { id: d.id, receipt, problem: d.problem, unrepaired: outcome.unrepaired, items: d.candidates },
      'damaged receipt: kept as it is, and every item that may be its; check the items against what the client sent, then write the receipt again or delete it (a retry of the id then stores it anew)',
    );
  }
  return { rebuilt, damaged: left };
}

async function rebuild(
  dataDir: string,
  d: DamagedReceiptFile & { candidates: string[] },
  owners: Owners,
): Promise<{ item: StoredItem } | { unrepaired: string }> {
  const found = salvage(d.text);
  let candidates = d.candidates;
  if (typeof found.path === 'string' && candidates.includes(found.path)) {
    candidates = candidates.filter((c) => c === found.path || c === found.plaintextPath || `${c}.age` === found.path);
  }
  let main: string;
  let plain: string | undefined;
  if (candidates.length === 1) main = candidates[0] as string;
  else if (candidates.length === 2 && candidates.some((c) => candidates.includes(`${c}.age`))) {
    main = candidates.find((c) => c.endsWith('.age') && candidates.includes(c.slice(0, -4))) as string;
    plain = main.slice(0, -4);
  } else {
    return { unrepaired: candidates.length === 0 ? 'no item of this id was found' : 'several items may be this id’s' };
  }
  const [, day, fileName] = main.split('/') as [string, string, string];
  const owner = serverIdOfItemName(fileName);
  if (owner === undefined || !owners.isGone(owner))
    return { unrepaired: 'its item belongs to a server that may still be running' };

  const { bytes, sha256 } = await hashFile(join(dataDir, main));
  if (
    (typeof found.bytes === 'number' && found.bytes !== bytes) ||
    (typeof found.sha256 === 'string' && found.sha256 !== sha256)
  ) {
    return {
      unrepaired: `the item (${bytes} bytes, SHA-256 ${sha256}) does not match what the damaged receipt still shows`,
    };
  }
  const rest = fileName.replace(/^\d{6}-[0-9a-f]{8}-\d+-(?:\d+~)?/, '').slice(idForName(d.id).length + 1);
  const dictFormat = ({ 'dict.json': 'json', 'dict.xml': 'xml', 'dict.pb': 'protobuf' } as const)[rest as 'dict.json'];
  const kind = found.kind === 'dict' || found.kind === 'file' ? found.kind : dictFormat ? 'dict' : 'file';
  const format =
    kind === 'dict'
      ? ((['json', 'xml', 'protobuf'] as const).find((f) => f === found.format) ?? dictFormat)
      : undefined;
  const hms = fileName.slice(0, 6);
  const item: StoredItem = {
    id: d.id,
    kind,
    path: main,
    bytes,
    sha256,
    ...(format !== undefined ? { format } : {}),
    encrypted: typeof found.encrypted === 'boolean' ? found.encrypted : main.endsWith('.age'),
    receivedAt:
      typeof found.receivedAt === 'string'
        ? found.receivedAt
        : `${day}T${hms.slice(0, 2)}:${hms.slice(2, 4)}:${hms.slice(4, 6)}.000Z`,
    sender: typeof found.sender === 'string' ? found.sender : 'unknown',
    ...(typeof found.name === 'string' ? { name: found.name } : {}),
    serverId: owner,
    ...(plain !== undefined ? { plaintextPath: plain } : {}),
    rebuilt: { at: isoTime(), shaFrom: typeof found.sha256 === 'string' ? 'receipt' : 'item' },
  };
  return { item };
}

/** The fields that can still be read in a damaged receipt's text (`"key": value`, each on its own). */
function salvage(text: string): Partial<Record<keyof StoredItem, unknown>> {
  const out: Partial<Record<keyof StoredItem, unknown>> = {};
  const keys = new Set([
    'path',
    'plaintextPath',
    'bytes',
    'sha256',
    'kind',
    'format',
    'encrypted',
    'receivedAt',
    'sender',
    'name',
  ]);
  for (const m of text.matchAll(/"(\w+)"\s*:\s*("(?:[^"\\\n]|\\.)*"|-?\d+|true|false)(?=\s*[,}\n])/g)) {
    const key = m[1] as keyof StoredItem;
    if (!keys.has(key) || key in out) continue;
    try {
      out[key] = JSON.parse(m[2] as string) as unknown;
    } catch {
      // not readable after all
    }
  }
  if (typeof out.sha256 === 'string' && !/^[0-9a-f]{64}$/.test(out.sha256)) delete out.sha256;
  if (typeof out.path === 'string' && !/^items\/\d{4}-\d{2}-\d{2}\/\d{6}-[^/]+$/.test(out.path)) delete out.path;
  return out;
}

async function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    bytes += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { bytes, sha256: hash.digest('hex') };
}
