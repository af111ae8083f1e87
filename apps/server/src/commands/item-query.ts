/**
 * Which stored items an operator command is about (docs/SERVER.md §4, "Finding and managing items"): the filters of
 * `list` and `prune` (`--since`, `--older-than`, `--kind`, `--format`, a name or id), and the answer for an id that
 * names no item (`show`, `cat`, `rm`). Pure: the items come from the store's catalog (./item-access.ts).
 */
import { UsageError } from '@proj/cli-kit';
import type { StoredItem } from '../store/receipts';

export interface ItemFilter {
  /** Received at or after (ms since the epoch). */
  since?: number;
  /** Received before (ms since the epoch). */
  before?: number;
  kind?: 'dict' | 'file';
  format?: 'json' | 'xml' | 'protobuf';
  /** An id, the start of one, or a piece of the item's name or stored path (any letter case). */
  match?: string;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `90s`, `30m`, `12h`, `7d`, `2w` in milliseconds. */
export function parseAge(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$/i.exec(text);
  if (!m) throw new UsageError(`${what}: expected an age like 90s, 30m, 12h, 7d or 2w, got ${JSON.stringify(text)}`);
  return Math.round(Number(m[1]) * (UNITS[(m[2] as string).toLowerCase()] as number));
}

/** A point in time: an age before `now` (`7d`), or an ISO 8601 date or time (`2026-12-01`, `2026-12-01T10:00Z`). */
export function parseTimePoint(text: string, what: string, now: number): number {
  if (/^\s*\d+(?:\.\d+)?\s*[smhdw]\s*$/i.test(text)) return now - parseAge(text, what);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    // A date alone, or a time without a zone, is UTC: the times in receipts and stored names are.
    const t = text.trim().replace(' ', 'T');
    const ms = Date.parse(/T/.test(t) && !/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? `${t}Z` : t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(
    `${what}: expected an age (7d, 12h) or a UTC date (2026-12-01, 2026-12-01T10:00), got ${JSON.stringify(text)}`,
  );
}

/** The filter the flags of `list` (and `prune`) ask for. */
export function parseItemFilter(flags: Record<string, unknown>, match: string | undefined, now: number): ItemFilter {
  const filter: ItemFilter = {};
  if (typeof flags.since === 'string') filter.since = parseTimePoint(flags.since, '--since', now);
  if (typeof flags.olderThan === 'string') filter.before = now - parseAge(flags.olderThan, '--older-than');
  if (typeof flags.kind === 'string') {
    if (flags.kind !== 'dict' && flags.kind !== 'file')
      throw new UsageError(`--kind: expected dict or file, got ${JSON.stringify(flags.kind)}`);
    filter.kind = flags.kind;
  }
  if (typeof flags.format === 'string') {
    const format = flags.format === 'binary' ? 'protobuf' : flags.format;
    if (format !== 'json' && format !== 'xml' && format !== 'protobuf')
      throw new UsageError(`--format: expected json, xml or protobuf, got ${JSON.stringify(flags.format)}`);
    filter.format = format;
  }
  if (match !== undefined && match !== '') filter.match = match;
  return filter;
}

/** True when `item` passes every part of `filter`. */
export function matchesFilter(item: StoredItem, filter: ItemFilter): boolean {
  const at = Date.parse(item.receivedAt);
  if (filter.since !== undefined && !(at >= filter.since)) return false;
  if (filter.before !== undefined && !(at < filter.before)) return false;
  if (filter.kind !== undefined && item.kind !== filter.kind) return false;
  if (filter.format !== undefined && item.format !== filter.format) return false;
  if (filter.match !== undefined) {
    const q = filter.match.toLowerCase();
    const hay = [item.id, item.name ?? '', item.path.slice(item.path.lastIndexOf('/') + 1)].map((s) => s.toLowerCase());
    if (!hay.some((s) => s.includes(q))) return false;
  }
  return true;
}

/** The item whose put id is exactly `id`; a usage error (exit 2) names what is wrong when there is none. */
export function findById(items: readonly StoredItem[], id: string): StoredItem {
  const found = items.find((i) => i.id === id);
  if (found) return found;
  const near = items.filter((i) => i.id.startsWith(id)).map((i) => i.id);
  const hint = near.length > 0 ? `; ids starting so: ${near.slice(0, 5).join(', ')}` : '; `server list` shows the ids';
  throw new ItemNotFoundError(`no item with the id ${JSON.stringify(id)}${hint}`);
}

/** No stored item under the id asked for. */
export class ItemNotFoundError extends Error {
  readonly code = 'ERR_NOT_FOUND';
}
