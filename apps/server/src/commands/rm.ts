/**
 * `rm ID…`: removes items and their receipts for good, from either store, safely while servers use it (the
 * store's `remove`: ../store/removal.ts for the data directory, ../store/jetstream/removal.ts for a cluster;
 * docs/SERVER.md §4 says what a later put of the same id gets). An item whose file was already deleted by hand
 * (`missing` in `list`) loses its receipt the same way.
 */
import { EXIT_OK, type CliIo } from '../cli-io';
import { printable } from '../output/printable';
import { itemById, operatorOptions, withCatalog } from './item-access';

export async function rmCommand(ids: readonly string[], flags: Record<string, unknown>, io: CliIo): Promise<number> {
  const options = await operatorOptions(flags, io);
  return withCatalog(options, async (catalog) => {
    // Every id is looked up before anything is removed: a typo in the third id removes nothing.
    const items = [];
    for (const id of ids) items.push(await itemById(catalog, id));
    for (const item of items) {
      const outcome = await catalog.remove(item);
      if (flags.json) io.stdout.write(`${JSON.stringify({ id: item.id, path: item.path, outcome })}\n`);
      else if (outcome === 'removed') io.stdout.write(`removed ${printable(item.id)} (${printable(item.path)})\n`);
      else io.stdout.write(`${printable(item.id)} was removed meanwhile\n`);
    }
    return EXIT_OK;
  });
}
