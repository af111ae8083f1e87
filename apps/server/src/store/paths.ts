/**
 * Where things go in the data directory, how a client's file name becomes a safe part of a stored name, and the free
 * name an item takes when another holds its own.
 *
 *   <data>/items/YYYY-MM-DD/<HHMMSS>-<serverId>-<id>-<cleaned name>   stored items (UTC date and time)
 *   <data>/receipts/<id>.json                                          one receipt per put id: the index
 *   <data>/tmp/<serverId>.<n>.<purpose>                                temporaries of a live process
 *   <data>/journal/<serverId>.<n>.log                                  journal segments (./journal.ts)
 *   <data>/locks/<serverId>.lock                                       held by each live process (./liveness.ts)
 *
 * The client never chooses a directory: its name only contributes one cleaned path segment, always behind a
 * prefix the server writes, so no name can escape `items/` or collide with another server's files.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { NameInvalidError } from '@proj/protocol';
import { isoTime } from '../iso-time';

export const ITEMS_DIR = 'items';
export const RECEIPTS_DIR = 'receipts';
export const TMP_DIR = 'tmp';
export const JOURNAL_DIR = 'journal';
export const LOCKS_DIR = 'locks';

/** Longest cleaned client name kept, in UTF-8 bytes (the whole file name stays under 255 bytes). */
export const MAX_CLEAN_NAME_BYTES = 100;
/** Longest part of the put id kept in a file name. */
const MAX_ID_IN_NAME = 64;

/**
 * A fresh server id: 8 random hex digits and the process id, e.g. `3fa9c2d1-4242`. The pid is for people reading
 * names; it decides nothing (in a container every server is PID 1): liveness is the lock (./liveness.ts).
 */
export function newServerId(pid = process.pid): string {
  return `${randomBytes(4).toString('hex')}-${pid}`;
}

/** `YYYY-MM-DD` and `HHMMSS` of `date`, in UTC. */
export function utcStamp(date: Date): { day: string; time: string } {
  const iso = isoTime(date); // 2025-01-31T12:34:56.789Z
  return { day: iso.slice(0, 10), time: iso.slice(11, 19).replace(/:/g, '') };
}

/** The server id of a stored item's file name (`HHMMSS-<serverId>-…`), if it has one. */
export function serverIdOfItemName(fileName: string): string | undefined {
  const m = /^\d{6}-([0-9a-f]{8}-\d+)-/.exec(fileName);
  return m ? m[1] : undefined;
}

/**
 * Whether a stored item's file name (`HHMMSS-<serverId>-[n~]<id>-<name>`) may hold the put id written `idName`
 * (./receipt-repair.ts): ids may hold `-`, so another id starting with this one matches too.
 */
export function nameHoldsId(fileName: string, idName: string): boolean {
  const m = /^\d{6}-[0-9a-f]{8}-\d+-(?:\d+~)?/.exec(fileName);
  return m !== null && fileName.startsWith(`${idName}-`, m[0].length);
}

/** The server id of a temporary or journal segment name (`<serverId>.<n>.<purpose>`), if it has one. */
export function serverIdOfTempName(fileName: string): string | undefined {
  const m = /^([0-9a-f]{8}-\d+)\./.exec(fileName);
  return m ? m[1] : undefined;
}

/** Put ids may hold `:`, which some file systems refuse: the file name of a receipt escapes it as `%3A`. */
export function receiptFileName(id: string): string {
  return `${id.replace(/:/g, '%3A')}.json`;
}

/** The put id in a file name: `:` becomes `_`, runs of dots one dot (a path never holds `..`), cut to 64 characters. */
export function idForName(id: string): string {
  return id
    .replace(/:/g, '_')
    .replace(/\.{2,}/g, '.')
    .slice(0, MAX_ID_IN_NAME);
}

/** Windows device names, refused as a name's stem on any platform so the data directory can move there. */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

/**
 * Turns a client's file name into one safe path segment, by the steps of docs/PROTOCOL.md §4 (Stored names): NFC;
 * the last component of the path it may contain (both `/` and `\` separate); runs of anything outside letters,
 * digits, `.`, `_`, `-` and `+` replaced by one `_`, runs of `_` and of dots made one; no `.` or `_` at either
 * end; no Windows device name as the stem; at most 100 UTF-8 bytes with the extension kept. Throws
 * ERR_NAME_INVALID when no letter or digit is left (`.`, `..`, `/`, only punctuation).
 */
export function cleanName(name: string): string {
  const parts = name
    .normalize('NFC')
    .split(/[\\/]/)
    .filter((p) => p !== '' && p !== '.' && p !== '..');
  const last = parts[parts.length - 1] ?? '';
  let clean = last
    .replace(/[^\p{L}\p{N}._+-]+/gu, '_')
    .replace(/_+/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[._]+/, '')
    .replace(/[._]+$/, '');
  if (!/[\p{L}\p{N}]/u.test(clean)) {
    throw new NameInvalidError(`file name ${JSON.stringify(name.slice(0, 60))} has nothing usable as a name`);
  }
  const dot = clean.lastIndexOf('.');
  let stem = dot > 0 ? clean.slice(0, dot) : clean;
  let ext = dot > 0 ? clean.slice(dot) : '';
  // At most 17 characters (code points, as every length in docs/PROTOCOL.md §3), its dot included.
  if ([...ext].length > 17) {
    stem = clean;
    ext = '';
  }
  if (RESERVED.test(stem)) stem = `_${stem}`;
  const cut = truncateUtf8(stem, MAX_CLEAN_NAME_BYTES - Buffer.byteLength(ext));
  // A cut stem may end on a dot or an underscore: `x.` + `.txt` (or + `.age` later) would hold `..`.
  if (cut !== stem) stem = cut.replace(/[._]+$/, '');
  clean = `${stem}${ext}`;
  return clean;
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/** The file name of a stored item, without a collision counter. */
export function itemFileName(time: string, serverId: string, id: string, cleanedName: string): string {
  return `${time}-${serverId}-${idForName(id)}-${cleanedName}`;
}

/**
 * Creates `dir/base` with `create` (which must fail with EEXIST when the name is taken), or the same name with
 * `2~`, `3~`… before the id part. Returns the name used.
 */
export function placeUnique(dir: string, base: string, create: (path: string) => void): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : withCounter(base, n);
    try {
      create(join(dir, name));
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw err;
    }
  }
}

/** `HHMMSS-sid-pid-id-name` → `HHMMSS-sid-pid-n~id-name`: the counter goes before the id. */
export function withCounter(base: string, n: number): string {
  const m = /^(\d{6}-[0-9a-f]{8}-\d+-)(.*)$/.exec(base);
  return m ? `${m[1]}${n}~${m[2]}` : `${n}~${base}`;
}

/** Absolute paths of the data directory's parts. */
export function layout(dataDir: string): {
  items: string;
  receipts: string;
  tmp: string;
  journal: string;
  locks: string;
} {
  return {
    items: join(dataDir, ITEMS_DIR),
    receipts: join(dataDir, RECEIPTS_DIR),
    tmp: join(dataDir, TMP_DIR),
    journal: join(dataDir, JOURNAL_DIR),
    locks: join(dataDir, LOCKS_DIR),
  };
}
