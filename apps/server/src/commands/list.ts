/**
 * `list`: what was received, oldest first, as a table or as JSON lines, from whichever store the settings name
 * (../store/open-store.ts): the data directory (restored first as a server's start would, where it may write) or
 * a NATS JetStream cluster.
 */
import { EXIT_OK, type CliIo } from '../cli-io';
import { gatherOptions } from '../config';
import { createLogger } from '../logger';
import { formatBytes } from '../output/output';
import { jsonSafe, printable } from '../output/printable';
import { openItemCatalog } from '../store/open-store';
import { newServerId } from '../store/paths';

export async function listCommand(flags: Record<string, unknown>, io: CliIo): Promise<number> {
  const { options } = await gatherOptions({
    flags: { dataDir: flags.dataDir, store: flags.store, storeCredentials: flags.storeCredentials },
    env: io.env,
    cwd: io.cwd,
    defaultDataDir: io.defaultDataDir,
    ...(typeof flags.config === 'string' ? { configFile: flags.config } : {}),
  });
  const catalog = await openItemCatalog(options, { serverId: newServerId(), log: createLogger('warn') });
  let listed: Awaited<ReturnType<typeof catalog.list>>;
  try {
    listed = await catalog.list();
  } finally {
    await catalog.close();
  }
  const { items, damaged } = listed;
  const rebuilt = items.filter((i) => i.rebuilt !== undefined).length;
  if (damaged.length > 0) {
    io.stderr.write(
      `${damaged.length} damaged receipt${damaged.length === 1 ? '' : 's'} (shown as damaged): their items are kept; the server log says what to do (docs/SERVER.md §5)\n`,
    );
  }
  if (flags.json) {
    // Names and senders came from clients: escaped (still valid JSON, same values) so a terminal shows them inert.
    for (const item of items) io.stdout.write(`${jsonSafe(JSON.stringify(item))}\n`);
    for (const d of damaged) {
      io.stdout.write(
        `${jsonSafe(JSON.stringify({ id: d.id, damaged: true, receipt: d.receipt, problem: d.problem, items: d.candidates }))}\n`,
      );
    }
    return EXIT_OK;
  }
  if (items.length === 0 && damaged.length === 0) {
    io.stdout.write(`nothing received yet in ${catalog.where}\n`);
    return EXIT_OK;
  }
  const rows = items.map((i) => [
    i.receivedAt,
    i.kind === 'dict' ? `dict/${i.format}` : i.encrypted ? 'file/age' : 'file',
    formatBytes(i.bytes),
    i.sha256.slice(0, 12),
    i.sender,
    i.id,
    i.path,
  ]);
  for (const d of damaged)
    rows.push(['?', 'damaged', '?', '?', '?', d.id, d.candidates.join(', ') || '(no item found)']);
  const header = ['RECEIVED (UTC)', 'KIND', 'SIZE', 'SHA-256', 'SENDER', 'ID', 'PATH'];
  const shown = rows.map((r) => r.map((cell) => printable(cell))); // paths hold client names: shown inert
  const widths = header.map((h, c) => Math.max(h.length, ...shown.map((r) => (r[c] ?? '').length)));
  for (const row of [header, ...shown]) {
    io.stdout.write(
      `${row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  ')}\n`,
    );
  }
  io.stdout.write(`${items.length} item${items.length === 1 ? '' : 's'}`);
  if (rebuilt > 0) io.stdout.write(`, ${rebuilt} with a rebuilt receipt`);
  if (damaged.length > 0) io.stdout.write(`, ${damaged.length} damaged receipt${damaged.length === 1 ? '' : 's'}`);
  io.stdout.write('\n');
  return EXIT_OK;
}
