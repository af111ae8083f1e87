/**
 * The data directory: temporaries, the commit that makes an item durable and visible, and the receipts index.
 *
 * Commit order (the durability promise, docs/SERVER.md):
 *   1. the caller writes the bytes to a temporary in `tmp/` and fsyncs it;
 *   2. the temporary is hard-linked under its final name in `items/<day>/` (exclusive: never overwrites), and
 *      that directory is fsynced;
 *   3. the receipt is written to a temporary and fsynced, then hard-linked as `receipts/<id>.json`
 *      (exclusive: the first writer of an id wins, across processes), and `receipts/` is fsynced;
 *   4. only then does the session send the receipt.
 * A crash before 3 leaves an item with no receipt: an unacknowledged orphan, removed at the next start
 * (./cleanup.ts). A crash after 3 leaves only temporaries behind, also removed at start.
 */
import { link, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '@proj/protocol';
import type { Logger } from '../logger';
import { cleanStale } from './cleanup';
import { fsyncDir, mkdirDurable, writeFileDurable } from './durable';
import { ITEMS_DIR, itemFileName, layout, receiptFileName, utcStamp } from './paths';
import { readReceipt, type StoredItem } from './receipts';

export interface CommitInput {
  id: string;
  kind: 'dict' | 'file';
  /** A complete, fsynced temporary holding exactly the client's bytes. */
  tempPath: string;
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

export interface CommitResult {
  item: StoredItem;
  /** True when another put of this id was stored first: this one stored nothing and `item` is the first. */
  duplicate: boolean;
}

export class Store {
  #counter = 0;
  readonly dirs: ReturnType<typeof layout>;

  private constructor(
    readonly dataDir: string,
    readonly serverId: string,
    private readonly log: Logger,
  ) {
    this.dirs = layout(dataDir);
  }

  /** Creates the directory layout and removes what dead processes left behind. */
  static async open(dataDir: string, serverId: string, log: Logger): Promise<Store> {
    const store = new Store(dataDir, serverId, log);
    for (const dir of Object.values(store.dirs)) await mkdirDurable(dir);
    const cleaned = await cleanStale(dataDir, serverId, log);
    if (cleaned.temps + cleaned.orphans > 0) log.info(cleaned, 'removed stale temporaries and unacknowledged items');
    return store;
  }

  /** A fresh temporary path, unique to this process (`tmp/<serverId>.<n>.<purpose>`). */
  tempPath(purpose: string): string {
    this.#counter += 1;
    return join(this.dirs.tmp, `${this.serverId}.${this.#counter}.${purpose}`);
  }

  /** The item stored under `id`, if any. */
  findReceipt(id: string): Promise<StoredItem | undefined> {
    return readReceipt(this.dataDir, id);
  }

  /** Makes a temporary durable under its final name and records its receipt. Throws ERR_STORAGE on failure. */
  async commit(input: CommitInput): Promise<CommitResult> {
    const now = new Date();
    const { day, time } = utcStamp(now);
    const dir = join(this.dirs.items, day);
    const linked: string[] = [];
    const receiptTemp = this.tempPath('receipt');
    try {
      await mkdirDurable(dir);
      const itemName = await linkUnique(input.tempPath, dir, itemFileName(time, this.serverId, input.id, input.fileName));
      linked.push(join(dir, itemName));
      let plainName: string | undefined;
      if (input.plaintext) {
        plainName = await linkUnique(input.plaintext.tempPath, dir, itemFileName(time, this.serverId, input.id, input.plaintext.fileName));
        linked.push(join(dir, plainName));
      }
      await fsyncDir(dir);
      const item: StoredItem = {
        id: input.id,
        kind: input.kind,
        path: `${ITEMS_DIR}/${day}/${itemName}`,
        bytes: input.bytes,
        sha256: input.sha256,
        ...(input.format !== undefined ? { format: input.format } : {}),
        encrypted: input.encrypted,
        receivedAt: now.toISOString(),
        sender: input.sender,
        ...(input.name !== undefined ? { name: input.name } : {}),
        serverId: this.serverId,
        ...(plainName !== undefined ? { plaintextPath: `${ITEMS_DIR}/${day}/${plainName}` } : {}),
      };
      await writeFileDurable(receiptTemp, `${JSON.stringify(item, null, 2)}\n`);
      const receiptPath = join(this.dirs.receipts, receiptFileName(input.id));
      try {
        await link(receiptTemp, receiptPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // Another put of this id won: undo ours and answer with the first receipt.
        await removeAll(linked);
        await fsyncDir(dir);
        const first = JSON.parse(await readFile(receiptPath, 'utf8')) as StoredItem;
        return { item: first, duplicate: true };
      }
      await fsyncDir(this.dirs.receipts);
      linked.length = 0;
      return { item, duplicate: false };
    } catch (err) {
      this.log.error({ err, id: input.id }, 'commit failed');
      await removeAll(linked).catch(() => undefined);
      throw new StorageError(`could not store the item: ${(err as Error).message}`, { cause: err });
    } finally {
      await removeAll([receiptTemp, input.tempPath, ...(input.plaintext ? [input.plaintext.tempPath] : [])]);
    }
  }
}

/** Links `src` as `dir/base`, or with `2~`, `3~`… before the id part when the name is taken. */
async function linkUnique(src: string, dir: string, base: string): Promise<string> {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : withCounter(base, n);
    try {
      await link(src, join(dir, name));
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw err;
    }
  }
}

/** `HHMMSS-sid-pid-id-name` → `HHMMSS-sid-pid-n~id-name`: the counter goes before the id. */
function withCounter(base: string, n: number): string {
  const m = /^(\d{6}-[0-9a-f]{8}-\d+-)(.*)$/.exec(base);
  return m ? `${m[1]}${n}~${m[2]}` : `${n}~${base}`;
}

async function removeAll(paths: string[]): Promise<void> {
  for (const p of paths) {
    try {
      await unlink(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
