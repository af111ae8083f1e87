/**
 * `list`: what was received, oldest first, as a table or as JSON lines. Before listing, it restores what a
 * server's start would (journals replayed, damaged receipts rebuilt) when it may write to the data directory.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { EXIT_OK, type CliIo } from '../cli-io';
import { gatherOptions } from '../config';
import { createLogger } from '../logger';
import { formatBytes } from '../output/output';
import { jsonSafe, printable } from '../output/printable';
import { Owners, ServerLock } from '../store/liveness';
import { layout, newServerId } from '../store/paths';
import { findDamaged, repairReceipts } from '../store/receipt-repair';
import { replayJournals } from '../store/recovery';

export async function listCommand(flags: Record<string, unknown>, io: CliIo): Promise<number> {
  const { options } = await gatherOptions({
    flags: { dataDir: flags.dataDir },
    env: io.env,
    cwd: io.cwd,
    defaultDataDir: io.defaultDataDir,
    ...(typeof flags.config === 'string' ? { configFile: flags.config } : {}),
  });
  await recoverForList(options.dataDir);
  const { items, damaged } = await findDamaged(options.dataDir);
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
        `${jsonSafe(JSON.stringify({ id: d.id, damaged: true, receipt: d.file, problem: d.problem, items: d.candidates }))}\n`,
      );
    }
    return EXIT_OK;
  }
  if (items.length === 0 && damaged.length === 0) {
    io.stdout.write(`nothing received yet in ${options.dataDir}\n`);
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

/**
 * What a server's start would restore before it serves: the journals of stopped servers are replayed, damaged
 * receipts rebuilt where they can be. `list` holds a lock of its own meanwhile (its temporaries are live), and
 * where it cannot (a data directory it may only read, or none yet), it only lists.
 */
async function recoverForList(dataDir: string): Promise<void> {
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
