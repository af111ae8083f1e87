/**
 * `cat ID`: an item's bytes as stored (a file in the data directory; in a cluster, the dictionary inside its
 * receipt entry or the file's object chunks), on standard output or into a new file (`--out`); with `--decrypt`,
 * an age file's plaintext, opened with the server's identity (or its saved plaintext). The bytes came from a
 * client: they are not written to a terminal unless asked (`--force`), since they may hold escape sequences.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '@proj/cli-kit';
import { EXIT_OK, type CliIo } from '../cli-io';
import { decryptStream } from '../keys';
import { itemById, operatorKeys, operatorOptions, withCatalog } from './item-access';

const READ_BYTES = 256 * 1024;

export async function catCommand(id: string, flags: Record<string, unknown>, io: CliIo): Promise<number> {
  const out = typeof flags.out === 'string' ? resolve(io.cwd, flags.out) : undefined;
  if (out === undefined && io.stdout.isTTY && flags.force !== true) {
    throw new UsageError(
      'standard output is a terminal, and the bytes came from a client (they may hold escape sequences): pipe them, use --out FILE, `server show` to read them, or --force',
    );
  }
  const options = await operatorOptions(flags, io);
  return withCatalog(options, async (catalog) => {
    const item = await itemById(catalog, id);
    if (!(await catalog.present(item))) {
      throw new MissingItemError(`the file of item ${id} is missing (${item.path}): deleted by hand?`);
    }
    const decrypt = flags.decrypt === true && item.encrypted;
    let source: Readable;
    if (decrypt && item.plaintextPath) {
      source = catalog.openReader(item.plaintextPath, READ_BYTES);
    } else if (decrypt) {
      const keys = await operatorKeys(options);
      const plain = decryptStream(keys);
      const raw = catalog.openReader(item.path, READ_BYTES);
      raw.on('error', (err) => plain.destroy(err));
      source = raw.pipe(plain);
    } else {
      source = catalog.openReader(item.path, READ_BYTES);
    }
    if (flags.decrypt === true && !item.encrypted)
      io.stderr.write(`item ${id} is not an age file: its bytes as stored\n`);
    if (out !== undefined) {
      // A new file only (0600): never over something that is there.
      await pipeline(source, createWriteStream(out, { flags: 'wx', mode: 0o600 }));
      return EXIT_OK;
    }
    await copyTo(source, io.stdout);
    return EXIT_OK;
  });
}

/** Copies `source` to `dest` with backpressure, leaving `dest` open (it is standard output). */
async function copyTo(source: Readable, dest: Writable): Promise<void> {
  for await (const chunk of source) {
    if (!dest.write(chunk as Buffer)) await once(dest, 'drain');
  }
}

/** The item's receipt is there, its file is not. */
export class MissingItemError extends Error {
  readonly code = 'ERR_ITEM_MISSING';
}
