import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { makeTempDir } from '@proj/test-utils';

const run = promisify(execFile);

/** A fresh directory under the OS temp dir; remove it with the returned cleanup. */
export async function tempDir(): Promise<{
  dir: string;
  file: (name: string) => string;
  cleanup: () => Promise<void>;
}> {
  const { path: dir, remove } = await makeTempDir('proj-crypto-');
  return { dir, file: (name) => path.join(dir, name), cleanup: remove };
}

/** Writes `size` random bytes to `file` and returns them. */
export async function randomFile(file: string, size: number): Promise<Buffer> {
  const data = randomBytes(size);
  await writeFile(file, data);
  return data;
}

/** Runs the Debian `age` CLI (or age-keygen) with arguments; secrets never go on the command line except paths. */
export async function cli(cmd: 'age' | 'age-keygen', args: string[]): Promise<string> {
  const { stdout } = await run(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return stdout;
}

/** Runs `age` and returns its standard output as bytes (age -o creates no file for an empty output). */
export async function cliBytes(args: string[]): Promise<Buffer> {
  const { stdout } = await run('age', args, { encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

/**
 * The age CLI reads passphrases only from a terminal: `script` gives it a pseudo-terminal and forwards our
 * standard input, where the passphrase is written (twice for `age -p`, which asks for confirmation).
 */
export function cliWithPassphrase(ageArgs: string[], passphrase: string, times: number): Promise<void> {
  const command = ['age', ...ageArgs].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = execFile('script', ['-qec', command, '/dev/null'], (err) => (err ? reject(err) : resolve()));
    child.stdin?.end(`${passphrase}\n`.repeat(times));
  });
}

/** Runs `data` through a transform, in pieces of the given sizes (cycled), and collects the output. */
export async function throughTransform(
  transform: Transform,
  data: Buffer,
  pieces: number[] = [data.length || 1],
): Promise<Buffer> {
  const parts: Buffer[] = [];
  async function* source(): AsyncGenerator<Buffer> {
    let offset = 0;
    let i = 0;
    while (offset < data.length) {
      const n = Math.max(1, pieces[i++ % pieces.length] ?? 1);
      yield data.subarray(offset, offset + n);
      offset += n;
    }
  }
  await pipeline(
    Readable.from(source()),
    transform,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

/** Files in a directory (to assert that no temp file was left behind). */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/**
 * A passphrase file's bytes with its scrypt stanza claiming another work factor (the header MAC no longer matches,
 * but a decrypter only finds that out after deriving the key, which is what a hostile sender exploits).
 */
export function withWorkFactor(sealed: Buffer, logN: number | string): Buffer {
  const text = sealed.toString('latin1');
  const changed = text.replace(/^(-> scrypt \S+) \d+$/m, `$1 ${logN}`);
  if (changed === text) throw new Error('no scrypt stanza to change');
  return Buffer.from(changed, 'latin1');
}
