/**
 * What the operator's item commands (`list`, `show`, `cat`, `rm`, `prune`) share: the store and keys from the
 * same sources as `serve` (flags > environment > config file > defaults, ../config.ts), the store opened as a
 * catalog (../store/open-store.ts: the data directory, recovered first as a start would, or a `nats://` cluster)
 * and closed once the command is done, and one item looked up by its put id.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliIo } from '../cli-io';
import { gatherOptions } from '../config';
import { loadKeys, type Keys } from '../keys';
import { createLogger } from '../logger';
import type { ItemCatalog } from '../store/item-store';
import { openItemCatalog } from '../store/open-store';
import { newServerId } from '../store/paths';
import type { StoredItem } from '../store/receipts';
import { findById } from './item-query';

export interface OperatorOptions {
  dataDir: string;
  /** `--store nats://…`, or undefined for the data directory. */
  store?: string;
  storeCredentials?: string;
  identityFile: string;
  passphraseFile?: string;
}

/** The store and key files the flags, the environment and the config file name. */
export async function operatorOptions(flags: Record<string, unknown>, io: CliIo): Promise<OperatorOptions> {
  const { options } = await gatherOptions({
    flags: {
      dataDir: flags.dataDir,
      store: flags.store,
      storeCredentials: flags.storeCredentials,
      identity: flags.identity,
      passphraseFile: flags.passphraseFile,
    },
    env: io.env,
    cwd: io.cwd,
    defaultDataDir: io.defaultDataDir,
    ...(typeof flags.config === 'string' ? { configFile: flags.config } : {}),
  });
  return {
    dataDir: options.dataDir,
    ...(options.store !== undefined ? { store: options.store } : {}),
    ...(options.storeCredentials !== undefined ? { storeCredentials: options.storeCredentials } : {}),
    identityFile: options.identityFile ?? join(options.dataDir, 'identity.txt'),
    ...(options.passphraseFile !== undefined ? { passphraseFile: options.passphraseFile } : {}),
  };
}

/** Opens the store the options name as a catalog, runs `use` with it, and closes it whatever happens. */
export async function withCatalog<T>(options: OperatorOptions, use: (catalog: ItemCatalog) => Promise<T>): Promise<T> {
  const catalog = await openItemCatalog(options, { serverId: newServerId(), log: createLogger('warn') });
  try {
    return await use(catalog);
  } finally {
    await catalog.close();
  }
}

/** The item stored under put id `id`; ERR_NOT_FOUND (with the ids that start so) when none. */
export async function itemById(catalog: ItemCatalog, id: string): Promise<StoredItem> {
  return (await catalog.find(id)) ?? findById((await catalog.list()).items, id);
}

/**
 * The server's keys, to open age files: its identity file (never created here: a missing one is an error) and
 * its passphrase file, when configured.
 */
export async function operatorKeys(options: OperatorOptions): Promise<Keys> {
  try {
    await access(options.identityFile);
  } catch {
    throw new NoIdentityError(`no identity file at ${options.identityFile} (--identity names another)`);
  }
  return loadKeys(
    {
      dataDir: options.dataDir,
      identityFile: options.identityFile,
      ...(options.passphraseFile !== undefined ? { passphraseFile: options.passphraseFile } : {}),
      decrypt: true,
    },
    createLogger('error'),
  );
}

/** Decryption was asked for, and the identity file is not there. */
export class NoIdentityError extends Error {
  readonly code = 'ERR_NO_IDENTITY';
}
