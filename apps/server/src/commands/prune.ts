/**
 * `prune --older-than AGE`: removes every item received longer ago than AGE (narrowed by the filters of `list`),
 * from either store, as `rm` does, one after another. `--dry-run` lists what it would remove.
 */
import { UsageError } from '@proj/cli-kit';
import { EXIT_OK, type CliIo } from '../cli-io';
import { formatBytes } from '../output/output';
import { printable } from '../output/printable';
import { operatorOptions, withCatalog } from './item-access';
import { matchesFilter, parseItemFilter } from './item-query';

export async function pruneCommand(flags: Record<string, unknown>, io: CliIo, match?: string): Promise<number> {
  if (typeof flags.olderThan !== 'string') throw new UsageError('prune needs --older-than AGE (for example 30d)');
  const filter = parseItemFilter(flags, match, Date.now());
  const options = await operatorOptions(flags, io);
  return withCatalog(options, async (catalog) => {
    const chosen = (await catalog.list()).items.filter((item) => matchesFilter(item, filter));
    let removed = 0;
    let bytes = 0;
    for (const item of chosen) {
      const outcome = flags.dryRun === true ? 'would remove' : await catalog.remove(item);
      if (flags.json) io.stdout.write(`${JSON.stringify({ id: item.id, path: item.path, outcome })}\n`);
      else if (outcome !== 'gone')
        io.stdout.write(
          `${outcome === 'removed' ? 'removed' : outcome} ${printable(item.id)} (${printable(item.path)})\n`,
        );
      if (outcome !== 'gone') {
        removed += 1;
        bytes += item.bytes;
      }
    }
    if (!flags.json) {
      const verb = flags.dryRun === true ? 'would remove' : 'removed';
      io.stdout.write(`${verb} ${removed} item${removed === 1 ? '' : 's'}, ${formatBytes(bytes)}\n`);
    }
    return EXIT_OK;
  });
}
