/**
 * `rm ID…`: removes items and their receipts for good, safely while servers run on the data directory
 * (../store/removal.ts says how, docs/SERVER.md §4 what a later put of the same id gets). An item whose file was
 * already deleted by hand (`missing` in `list`) loses its receipt the same way.
 */
import { EXIT_OK, type CliIo } from '../cli-io';
import { printable } from '../output/printable';
import { removeItem } from '../store/removal';
import { itemById, operatorOptions } from './item-access';

export async function rmCommand(ids: readonly string[], flags: Record<string, unknown>, io: CliIo): Promise<number> {
  const options = await operatorOptions(flags, io);
  // Every id is looked up before anything is removed: a typo in the third id removes nothing.
  const items = [];
  for (const id of ids) items.push(await itemById(options.dataDir, id));
  for (const item of items) {
    const outcome = await removeItem(options.dataDir, item);
    if (flags.json) io.stdout.write(`${JSON.stringify({ id: item.id, path: item.path, outcome })}\n`);
    else if (outcome === 'removed') io.stdout.write(`removed ${printable(item.id)} (${printable(item.path)})\n`);
    else io.stdout.write(`${printable(item.id)} was removed meanwhile\n`);
  }
  return EXIT_OK;
}
