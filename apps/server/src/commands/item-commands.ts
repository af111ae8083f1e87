/**
 * The commander definitions of the operator's item commands, `list`, `show`, `cat`, `rm` and `prune`
 * (docs/SERVER.md §4), kept beside them so that ../cli.ts adds them with one call. Each takes the same options to
 * find the store, defined once here. A command's module is required when it runs, so that a `serve` does not load
 * the operator's commands (docs/SERVER.md §12, "Memory").
 */
import type { Command } from 'commander';
import type { CliIo } from '../cli-io';

type ListModule = typeof import('./list');
type ShowModule = typeof import('./show');
type CatModule = typeof import('./cat');
type RmModule = typeof import('./rm');
type PruneModule = typeof import('./prune');

/** The options every item command takes to find the store: the data directory, or a cluster (and the config). */
function withStoreOptions(command: Command): Command {
  return command
    .option('-d, --data-dir <dir>', 'data directory (default: ./data)')
    .option('--store <url>', 'a NATS JetStream store, nats://host:port[,host:port...] (default: the data directory)')
    .option('--store-credentials <file>', 'credentials for a nats:// store')
    .option('-c, --config <file>', 'JSON config file');
}

/** The filters `list` and `prune` share (./item-query.ts parseItemFilter): a name or id, a kind, a format. */
function withFilterOptions(command: Command): Command {
  return command
    .argument('[match]', 'only items whose id, name or stored name holds this')
    .option('--kind <kind>', 'only dict or file items')
    .option('--format <format>', 'only dictionaries of this format: json, xml or protobuf');
}

/** The options that open age files with the server's keys (`show`, `cat`). */
function withKeyOptions(command: Command, decrypt: string): Command {
  return command
    .option('--decrypt', decrypt)
    .option('--identity <file>', 'age identity file (default: <data-dir>/identity.txt)')
    .option('--passphrase-file <file>', 'file with an age passphrase');
}

export function addItemCommands(program: Command, io: CliIo, done: (code: number) => void): void {
  withFilterOptions(withStoreOptions(program.command('list').description('list what was received, oldest first')))
    .option('--json', 'print JSON, one item per line')
    .option('--since <when>', 'only items received since: an age (7d, 12h) or a UTC date (2026-12-01)')
    .action(async (match: string | undefined, flags: Record<string, unknown>) =>
      done(await (require('./list') as ListModule).listCommand(flags, io, match)),
    );

  withKeyOptions(
    withStoreOptions(
      program
        .command('show')
        .argument('<id>', 'the put id')
        .description("one item's receipt, its state and the head of its content"),
    ),
    "decrypt an age file with the server's identity to show it",
  )
    .option('--json', 'print the receipt as JSON')
    .action(async (id: string, flags: Record<string, unknown>) =>
      done(await (require('./show') as ShowModule).showCommand(id, flags, io)),
    );

  withKeyOptions(
    withStoreOptions(
      program
        .command('cat')
        .argument('<id>', 'the put id')
        .description("an item's bytes, on standard output or into a new file"),
    ),
    "an age file's plaintext, opened with the server's identity",
  )
    .option('--out <file>', 'write into this new file (0600) instead')
    .option('--force', 'write to standard output even when it is a terminal')
    .action(async (id: string, flags: Record<string, unknown>) =>
      done(await (require('./cat') as CatModule).catCommand(id, flags, io)),
    );

  withStoreOptions(
    program
      .command('rm')
      .argument('<id...>', 'put ids')
      .description('remove items and their receipts for good (safe while servers run)'),
  )
    .option('--json', 'print JSON, one line per item')
    .action(async (ids: string[], flags: Record<string, unknown>) =>
      done(await (require('./rm') as RmModule).rmCommand(ids, flags, io)),
    );

  withFilterOptions(
    withStoreOptions(program.command('prune').description('remove the items received longer ago than --older-than')),
  )
    .option('--older-than <age>', 'an age: 90s, 30m, 12h, 7d, 2w')
    .option('--dry-run', 'only say what would be removed')
    .option('--json', 'print JSON, one line per item')
    .action(async (match: string | undefined, flags: Record<string, unknown>) =>
      done(await (require('./prune') as PruneModule).pruneCommand(flags, io, match)),
    );
}
