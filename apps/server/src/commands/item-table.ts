/**
 * The table `list` prints (docs/SERVER.md §4): one row per item, oldest first, with its name, and its state: `ok`,
 * `missing` (its receipt is there but its file is not: deleted by hand) or `damaged` (its receipt cannot be read).
 * Everything a client chose (names, ids, senders) is shown inert (../output/printable.ts).
 */
import type { StoredItem } from '../store/receipts';
import { formatBytes } from '../output/output';
import { printable } from '../output/printable';

/** A listed item and whether its file is there. */
export interface ListedItem {
  item: StoredItem;
  present: boolean;
}

const NAME_MAX = 40;

/** The name a person knows an item by: the client's file name, or `dict.<ext>` for a dictionary. */
export function itemName(item: StoredItem): string {
  if (item.name !== undefined) return item.name;
  const file = item.path.slice(item.path.lastIndexOf('/') + 1);
  return file.slice(file.lastIndexOf('-') + 1);
}

/** `dict/json`, `file`, `file/age`. */
export function itemKind(item: StoredItem): string {
  return item.kind === 'dict' ? `dict/${item.format}` : item.encrypted ? 'file/age' : 'file';
}

/** `2026-12-03T15:04:07.123Z` → `2026-12-03 15:04:07`. */
function shortTime(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(iso) ? iso.slice(0, 19).replace('T', ' ') : iso;
}

function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/** The table's lines (header first), each ending in a newline. */
export function itemTable(
  listed: readonly ListedItem[],
  damaged: readonly { id: string; candidates: readonly string[] }[] = [],
): string {
  const header = ['RECEIVED (UTC)', 'KIND', 'SIZE', 'NAME', 'ID', 'SENDER', 'STATE', 'PATH'];
  const rows = listed.map(({ item, present }) => [
    shortTime(item.receivedAt),
    itemKind(item),
    formatBytes(item.bytes),
    cut(printable(itemName(item)), NAME_MAX),
    printable(item.id),
    printable(item.sender),
    present ? 'ok' : 'missing',
    printable(item.path),
  ]);
  for (const d of damaged) {
    const where = d.candidates.join(', ') || '(no item found)';
    rows.push(['?', 'damaged', '?', '?', printable(d.id), '?', 'damaged', printable(where)]);
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => [...(r[c] ?? '')].length)));
  return [header, ...rows]
    .map((row) => `${row.map((cell, c) => (c === row.length - 1 ? cell : pad(cell, widths[c] ?? 0))).join('  ')}\n`)
    .join('');
}

function pad(cell: string, width: number): string {
  return cell + ' '.repeat(Math.max(0, width - [...cell].length));
}
