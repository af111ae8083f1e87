/**
 * `list`: what was received, oldest first, as a table or as JSON lines. Before listing, it restores what a
 * server's start would (journals replayed, damaged receipts rebuilt) when it may write to the data directory.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { EXIT_OK, type CliIo } from '../cli-io';
import { gatherOptions } from '../config';
import { createLogger } from '../logger';
import { jsonSafe } from '../output/printable';
import { Owners, ServerLock } from '../store/liveness';
import { layout, newServerId } from '../store/paths';
import { findDamaged, repairReceipts } from '../store/receipt-repair';
import { replayJournals } from '../store/recovery';
import { isPresent, matchesFilter, parseItemFilter } from './item-query';
import { itemTable } from './item-table';

export async function listCommand(flags: Record<string, unknown>, io: CliIo, match?: string): Promise<number> {
  const filter = parseItemFilter(flags, match, Date.now());
  const { options } = await gatherOptions({
    flags: { dataDir: flags.dataDir },
    env: io.env,
    cwd: io.cwd,
    defaultDataDir: io.defaultDataDir,
    ...(typeof flags.config === 'string' ? { configFile: flags.config } : {}),
  });
  await recoverForList(options.dataDir);
  const found = await findDamaged(options.dataDir);
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
    items.map(async (item) => ({ item, present: await isPresent(options.dataDir, item) })),
  );
  const missing = listed.filter((l) => !l.present).length;
  if (flags.json) {
    // Names and senders came from clients: escaped (still valid JSON, same values) so a terminal shows them inert.
    for (const { item, present } of listed) {
      io.stdout.write(`${jsonSafe(JSON.stringify(present ? item : { ...item, missing: true }))}\n`);
    }
    for (const d of damaged) {
      io.stdout.write(
        `${jsonSafe(JSON.stringify({ id: d.id, damaged: true, receipt: d.file, problem: d.problem, items: d.candidates }))}\n`,
      );
    }
    return EXIT_OK;
  }
  if (items.length === 0 && damaged.length === 0) {
    const what = found.items.length > 0 ? 'no item matches' : 'nothing received yet';
    io.stdout.write(`${what} in ${options.dataDir}\n`);
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

/**
 * What a server's start would restore before it serves: the journals of stopped servers are replayed, damaged
 * receipts rebuilt where they can be. `list` holds a lock of its own meanwhile (its temporaries are live), and
 * where it cannot (a data directory it may only read, or none yet), it only lists.
 */
export async function recoverForList(dataDir: string): Promise<void> {
  const log = createLogger('warn');
  const id = newServerId();
  let lock: ServerLock;
  try {
    if (!existsSync(dataDir)) return;
    mkdirSync(layout(dataDir).locks, { mode: 0o700, recursive: true });
    lock = ServerLock.acquire(dataDir, id, log);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EROFS' || code === 'EPERM') return;
    throw err;
  }
  try {
    const owners = new Owners(dataDir, id, log);
    await replayJournals(dataDir, id, log, 'syncfs', owners);
    if (existsSync(layout(dataDir).tmp)) await repairReceipts(dataDir, id, owners, log);
  } finally {
    lock.release();
  }
}
