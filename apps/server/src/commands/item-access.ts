/**
 * What `show`, `cat`, `rm` and `prune` share: the data directory and keys from the same sources as `serve`
 * (flags > environment > config file > defaults, ../config.ts), and one item looked up by its put id through the
 * receipts index (../store/receipts.ts), after the recovery a start would do (../store/local-catalog.ts `recoverForList`).
 */
import { createReadStream } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliIo } from '../cli-io';
import { gatherOptions } from '../config';
import { loadKeys, type Keys } from '../keys';
import { createLogger } from '../logger';
import type { ItemReader } from '../store/item-store';
import { listReceived, readReceipt, type StoredItem } from '../store/receipts';
import { findById } from './item-query';
import { recoverForList } from '../store/local-catalog';

export interface OperatorOptions {
  dataDir: string;
  identityFile: string;
  passphraseFile?: string;
}

/** The data directory and key files the flags, the environment and the config file name. */
export async function operatorOptions(flags: Record<string, unknown>, io: CliIo): Promise<OperatorOptions> {
  const { options } = await gatherOptions({
    flags: { dataDir: flags.dataDir, identity: flags.identity, passphraseFile: flags.passphraseFile },
    env: io.env,
    cwd: io.cwd,
    defaultDataDir: io.defaultDataDir,
    ...(typeof flags.config === 'string' ? { configFile: flags.config } : {}),
  });
  return {
    dataDir: options.dataDir,
    identityFile: options.identityFile ?? join(options.dataDir, 'identity.txt'),
    ...(options.passphraseFile !== undefined ? { passphraseFile: options.passphraseFile } : {}),
  };
}

/** The item stored under put id `id`, after recovery; ERR_NOT_FOUND (with the ids that start so) when none. */
export async function itemById(dataDir: string, id: string): Promise<StoredItem> {
  await recoverForList(dataDir);
  const item = await readReceipt(dataDir, id);
  return item ?? findById(await listReceived(dataDir), id);
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

/** Reads items back from the data directory, as the running server's store does (../store/store.ts). */
export function dirReader(dataDir: string): ItemReader {
  return {
    async readHead(path, maxBytes) {
      const handle = await open(join(dataDir, path), 'r');
      try {
        const buffer = Buffer.alloc(maxBytes + 1);
        const { bytesRead } = await handle.read(buffer, 0, maxBytes + 1, 0);
        return { head: buffer.subarray(0, Math.min(bytesRead, maxBytes)), more: bytesRead > maxBytes };
      } finally {
        await handle.close();
      }
    },
    openReader: (path, highWaterMark) => createReadStream(join(dataDir, path), { highWaterMark }),
  };
}
