/**
 * `list`: what was received, oldest first, as a table or as JSON lines, from whichever store the settings name
 * (./item-access.ts withCatalog): the data directory (restored first as a server's start would, where it may
 * write) or a NATS JetStream cluster.
 */
import { EXIT_OK, type CliIo } from '../cli-io';
import { jsonSafe } from '../output/printable';
import type { ItemCatalog } from '../store/item-store';
import type { StoredItem } from '../store/receipts';
import { operatorOptions, withCatalog } from './item-access';
import { matchesFilter, parseItemFilter } from './item-query';
import { itemTable, type ListedItem } from './item-table';

/** Items whose presence is asked of the store at once (a cluster answers each by a request). */
const PRESENCE_BATCH = 32;

export async function listCommand(flags: Record<string, unknown>, io: CliIo, match?: string): Promise<number> {
  const filter = parseItemFilter(flags, match, Date.now());
  const options = await operatorOptions(flags, io);
  const { found, items, listed, where } = await withCatalog(options, async (catalog) => {
    const found = await catalog.list();
    const items = found.items.filter((i) => matchesFilter(i, filter));
    return { found, items, listed: await withPresence(catalog, items), where: catalog.where };
  });
  // A filter is about items: damaged receipts (whose item is unknown) are shown only without one.
  const damaged = Object.keys(filter).length === 0 ? found.damaged : [];
  const rebuilt = items.filter((i) => i.rebuilt !== undefined).length;
  if (damaged.length > 0) {
    io.stderr.write(
      `${damaged.length} damaged receipt${damaged.length === 1 ? '' : 's'} (shown as damaged): their items are kept; the server log says what to do (docs/SERVER.md §5)\n`,
    );
  }
  const missing = listed.filter((l) => !l.present).length;
  if (flags.json) {
    // Names and senders came from clients: escaped (still valid JSON, same values) so a terminal shows them inert.
    for (const { item, present } of listed) {
      io.stdout.write(`${jsonSafe(JSON.stringify(present ? item : { ...item, missing: true }))}\n`);
    }
    for (const d of damaged) {
      io.stdout.write(
        `${jsonSafe(JSON.stringify({ id: d.id, damaged: true, receipt: d.receipt, problem: d.problem, items: d.candidates }))}\n`,
      );
    }
    return EXIT_OK;
  }
  if (items.length === 0 && damaged.length === 0) {
    const what = found.items.length > 0 ? 'no item matches' : 'nothing received yet';
    io.stdout.write(`${what} in ${where}\n`);
    return EXIT_OK;
  }
  io.stdout.write(itemTable(listed, damaged));
  io.stdout.write(`${items.length} item${items.length === 1 ? '' : 's'}`);
  if (missing > 0) io.stdout.write(`, ${missing} missing (receipt kept, file gone; \`server rm ID\` forgets one)`);
  if (rebuilt > 0) io.stdout.write(`, ${rebuilt} with a rebuilt receipt`);
  if (damaged.length > 0) io.stdout.write(`, ${damaged.length} damaged receipt${damaged.length === 1 ? '' : 's'}`);
  io.stdout.write('\n');
  return EXIT_OK;
}

/** Each item with whether its bytes are still in the store, asked PRESENCE_BATCH at a time. */
async function withPresence(catalog: ItemCatalog, items: readonly StoredItem[]): Promise<ListedItem[]> {
  const out: ListedItem[] = [];
  for (let at = 0; at < items.length; at += PRESENCE_BATCH) {
    const batch = items.slice(at, at + PRESENCE_BATCH);
    out.push(...(await Promise.all(batch.map(async (item) => ({ item, present: await catalog.present(item) })))));
  }
  return out;
}
