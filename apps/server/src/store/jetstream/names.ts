/**
 * Names in the cluster. A put id becomes a KV key (keys refuse `:` and `%`, and `.` separates tokens); a stored
 * item's path (`items/<day>/<HHMMSS>-…`, the same shape as the local store's) says where its bytes are: a file's
 * path is its object's name, unique to the put attempt; a dictionary's path names its receipt key, because the
 * dictionary is stored inside its receipt entry.
 */
import { idForName, utcStamp } from '../paths';

/** The KV bucket of receipts and the object store of files. */
export const RECEIPTS_BUCKET = 'proj_receipts';
export const ITEMS_BUCKET = 'proj_items';
/** The KV bucket of partials: cut file puts kept for a resume (./partials.ts). */
export const PARTIALS_BUCKET = 'proj_partials';

/**
 * A put id as a KV key: `A-Z a-z 0-9 _ -` stay, every other byte is `=` and two hex digits (`a:b.c` →
 * `a=3Ab=2Ec`). Reversible, and never an empty token or a refused character.
 */
export function keyOfId(id: string): string {
  let key = '';
  for (const byte of Buffer.from(id, 'utf8')) {
    const c = String.fromCharCode(byte);
    key += /[A-Za-z0-9_-]/.test(c) ? c : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return key;
}

/** The put id of a KV key made by keyOfId, or undefined when it is not one. */
export function idOfKey(key: string): string | undefined {
  if (!/^(?:[A-Za-z0-9_-]|=[0-9A-F]{2})+$/.test(key)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '=') {
      bytes.push(Number.parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(key.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A dictionary's path: `items/<day>/<HHMMSS>-<serverId>-<key>-dict.<ext>`. */
export function dictPath(at: Date, serverId: string, id: string, ext: string): string {
  const { day, time } = utcStamp(at);
  return `items/${day}/${time}-${serverId}-${keyOfId(id)}-dict.${ext}`;
}

/**
 * A file's path and object name: `items/<day>/<HHMMSS>-<serverId>-<n>~<id>-<name>`, where `<n>` counts this
 * server's attempts, so two attempts of one id never share an object.
 */
export function filePath(at: Date, serverId: string, attempt: number, id: string, cleanedName: string): string {
  const { day, time } = utcStamp(at);
  return `items/${day}/${time}-${serverId}-${attempt}~${idForName(id)}-${cleanedName}`;
}

/** What a stored path names: a file's object, or the receipt key a dictionary lives in. */
export function parseItemPath(
  path: string,
): { kind: 'file'; object: string } | { kind: 'dict'; key: string } | undefined {
  const m = /^items\/\d{4}-\d{2}-\d{2}\/\d{6}-[0-9a-f]{8}-\d+-(\d+~)?(.+)$/.exec(path);
  if (!m) return undefined;
  if (m[1] !== undefined) return { kind: 'file', object: path };
  const d = /^((?:[A-Za-z0-9_-]|=[0-9A-F]{2})+)-dict\.[a-z]+$/.exec(m[2] as string);
  return d ? { kind: 'dict', key: d[1] as string } : undefined;
}
