/**
 * The command line: `serve` (the default) and `list`. Parses flags with commander, merges them with the
 * environment and the config file (./config.ts), asks for what is missing when on a terminal (./prompts.ts),
 * and runs. Returns an exit code; only ./main.ts exits the process.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { gatherOptions, SETTINGS, envName } from './config';
import { DEFAULTS, UsageError, type LogLevel, type OutputMode } from './options';
import { createLogger } from './logger';
import { formatBytes } from './output';
import { jsonSafe, printable } from './printable';
import { askStartup, type StartupQuestion } from './prompts';
import { startServer } from './server';
import { Owners, ServerLock } from './store/liveness';
import { layout, newServerId } from './store/paths';
import { findDamaged, repairReceipts } from './store/receipt-repair';
import { replayJournals } from './store/recovery';

export interface CliIo {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Where relative paths given by the user resolve from. */
  cwd: string;
  /** Data directory when none is given. */
  defaultDataDir: string;
  stdin: { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  /** Resolves with the name of the first SIGINT/SIGTERM. */
  waitForSignal(): Promise<string>;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const STARTUP_QUESTIONS: readonly StartupQuestion[] = ['host', 'port', 'dataDir', 'output', 'decrypt'];

export async function runCli(io: CliIo): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command('server')
    .description('Receives dictionaries and files from clients and stores them durably.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError();

  const serve = program
    .command('serve', { isDefault: true })
    .description('listen for clients (the default command)')
    .addHelpText('after', `\n${envHelp()}`);
  for (const setting of SETTINGS) {
    const flags = setting.arg ? `${setting.flag} <${setting.arg}>` : setting.flag;
    const shown = setting.shownDefault ? ` (default: ${setting.shownDefault})` : '';
    serve.addOption(new Option(flags, `${setting.description}${shown}`));
  }
  serve
    .addOption(new Option('--no-decrypt', 'never open age files'))
    .addOption(new Option('--config <file>', 'JSON config file (keys: the flag names in camelCase)'))
    .addOption(new Option('--no-prompt', 'never ask questions, even on a terminal'))
    .action(async (flags: Record<string, unknown>) => {
      exitCode = await serveCommand(flags, io);
    });

  program
    .command('list')
    .description('list what was received, oldest first')
    .option('--data-dir <dir>', 'data directory (default: ./data)')
    .option('--config <file>', 'JSON config file')
    .option('--json', 'print JSON, one item per line')
    .action(async (flags: Record<string, unknown>) => {
      exitCode = await listCommand(flags, io);
    });

  try {
    await program.parseAsync(io.argv as string[], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw err;
  }
  return exitCode;
}

async function serveCommand(flags: Record<string, unknown>, io: CliIo): Promise<number> {
  const { options, set } = await gatherOptions({
    flags,
    env: io.env,
    cwd: io.cwd,
    defaultDataDir: io.defaultDataDir,
    ...(typeof flags['config'] === 'string' ? { configFile: flags['config'] } : {}),
  });
  const interactive = Boolean(io.stdin.isTTY && io.stdout.isTTY) && flags['prompt'] !== false;
  const missing = STARTUP_QUESTIONS.filter((q) => !set.has(q));
  if (interactive && missing.length > 0) {
    const answers = await askStartup(missing, {
      host: options.host ?? DEFAULTS.host,
      port: options.port ?? DEFAULTS.port,
      dataDir: options.dataDir,
      output: (options.output ?? DEFAULTS.output) as OutputMode,
      decrypt: options.decrypt ?? DEFAULTS.decrypt,
    });
    Object.assign(options, answers);
    if (answers.dataDir !== undefined) options.dataDir = resolve(io.cwd, answers.dataDir);
  }
  // At a terminal, JSON info lines on stderr would interleave with the readable lines on stdout: warnings only,
  // unless --log-level (or its variable or config key) says otherwise.
  const logLevel = options.logLevel ?? defaultLogLevel(io.stderr.isTTY === true);
  const server = await startServer({ ...options, logLevel, stdout: io.stdout });
  const signal = await io.waitForSignal();
  io.stdout.write(`${signal}: shutting down\n`);
  await server.close();
  return EXIT_OK;
}

async function listCommand(flags: Record<string, unknown>, io: CliIo): Promise<number> {
  const { options } = await gatherOptions({
    flags: { dataDir: flags['dataDir'] },
    env: io.env,
    cwd: io.cwd,
    defaultDataDir: io.defaultDataDir,
    ...(typeof flags['config'] === 'string' ? { configFile: flags['config'] } : {}),
  });
  await recoverForList(options.dataDir);
  const { items, damaged } = await findDamaged(options.dataDir);
  const rebuilt = items.filter((i) => i.rebuilt !== undefined).length;
  if (damaged.length > 0) {
    io.stderr.write(
      `${damaged.length} damaged receipt${damaged.length === 1 ? '' : 's'} (shown as damaged): their items are kept; the server log says what to do (docs/SERVER.md §5)\n`,
    );
  }
  if (flags['json']) {
    // Names and senders came from clients: escaped (still valid JSON, same values) so a terminal shows them inert.
    for (const item of items) io.stdout.write(`${jsonSafe(JSON.stringify(item))}\n`);
    for (const d of damaged) {
      io.stdout.write(`${jsonSafe(JSON.stringify({ id: d.id, damaged: true, receipt: d.file, problem: d.problem, items: d.candidates }))}\n`);
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
  for (const d of damaged) rows.push(['?', 'damaged', '?', '?', '?', d.id, d.candidates.join(', ') || '(no item found)']);
  const header = ['RECEIVED (UTC)', 'KIND', 'SIZE', 'SHA-256', 'SENDER', 'ID', 'PATH'];
  const shown = rows.map((r) => r.map((cell) => printable(cell))); // paths hold client names: shown inert
  const widths = header.map((h, c) => Math.max(h.length, ...shown.map((r) => (r[c] ?? '').length)));
  for (const row of [header, ...shown]) {
    io.stdout.write(`${row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  ')}\n`);
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

/** The log level when none is configured: `warn` when stderr is a terminal, `info` otherwise. */
export function defaultLogLevel(stderrIsTTY: boolean): LogLevel {
  return stderrIsTTY ? 'warn' : DEFAULTS.logLevel;
}

function envHelp(): string {
  const lines = SETTINGS.map((s) => `  ${envName(s)}`);
  return [
    'Environment variables (flags win over them; they win over the config file):',
    ...lines,
    '  PROJ_SERVER_CONFIG             the config file, like --config',
  ].join('\n');
}

export { UsageError };
