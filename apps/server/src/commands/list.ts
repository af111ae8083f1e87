/**
 * `list`: what was received, oldest first, as a table or as JSON lines, from whichever store the settings name
 * (../store/open-store.ts): the data directory (restored first as a server's start would, where it may write) or
 * a NATS JetStream cluster.
 */
import { EXIT_OK, type CliIo } from '../cli-io';
import { gatherOptions } from '../config';
import { createLogger } from '../logger';
import { jsonSafe } from '../output/printable';
import { openItemCatalog } from '../store/open-store';
import { newServerId } from '../store/paths';
import { isPresent, matchesFilter, parseItemFilter } from './item-query';
import { itemTable } from './item-table';

export async function listCommand(flags: Record<string, unknown>, io: CliIo, match?: string): Promise<number> {
  const filter = parseItemFilter(flags, match, Date.now());
  const { options } = await gatherOptions({
    flags: { dataDir: flags.dataDir, store: flags.store, storeCredentials: flags.storeCredentials },
    env: io.env,
    cwd: io.cwd,
    defaultDataDir: io.defaultDataDir,
    ...(typeof flags.config === 'string' ? { configFile: flags.config } : {}),
  });
  const catalog = await openItemCatalog(options, { serverId: newServerId(), log: createLogger('warn') });
  let found: Awaited<ReturnType<typeof catalog.list>>;
  try {
    found = await catalog.list();
  } finally {
    await catalog.close();
  }
  const items = found.items.filter((i) => matchesFilter(i, filter));
  // A filter is about items: damaged receipts (whose item is unknown) are shown only without one.
  const damaged = Object.keys(filter).length === 0 ? found.damaged : [];
  const rebuilt = items.filter((i) => i.rebuilt !== undefined).length;
  if (damaged.length > 0) {
    io.stderr.write(
      `${damaged.length} damaged receipt${damaged.length === 1 ? '' : 's'} (shown as damaged): their items are kept; the server log says what to do (docs/SERVER.md §5)\n`,
    );
  }
  const listed = await Promise.all(
    items.map(async (item) => ({ item, present: options.store ? true : await isPresent(options.dataDir, item) })),
  );
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
    io.stdout.write(`${what} in ${catalog.where}\n`);
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
