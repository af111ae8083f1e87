// The worker encrypter (src/worker-encrypter.ts): the same bytes as the in-thread `encryptWithKeys`, which the age
// CLI opens; bounded circulation of buffers whether or not the consumer gives them back; read errors with their
// codes; and a worker never left running by a consumer that stops early (a child process must exit by itself).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createAgeKeys, encryptFileInWorker, encryptWithKeys, type AgeKeys } from '@proj/crypto';
import { cli, cliBytes, randomFile, tempDir } from './helpers';

const KiB = 1024;
const MiB = 1024 * KiB;
// Empty, one byte, around the 64 KiB chunk boundary, and several MiB (more batches than circulate at once).
const SIZES = [0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 5 * MiB + 123];

let t: Awaited<ReturnType<typeof tempDir>>;
let keys: AgeKeys;

beforeAll(async () => {
  t = await tempDir();
  await cli('age-keygen', ['-o', t.file('key.txt')]);
  const recipient = (await cli('age-keygen', ['-y', t.file('key.txt')])).trim();
  keys = await createAgeKeys({ recipients: [recipient] });
});
afterAll(() => t.cleanup());

async function inThread(plain: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  async function* once(): AsyncGenerator<Buffer> {
    yield plain;
  }
  for await (const part of encryptWithKeys(keys, once())) parts.push(part);
  return Buffer.concat(parts);
}

/** Reads the whole source; gives each chunk back unless `recycle` is false. */
async function readAll(source: ReturnType<typeof encryptFileInWorker>, recycle = true): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of source) {
    parts.push(Buffer.from(chunk));
    if (recycle) source.recycle(chunk);
  }
  return Buffer.concat(parts);
}

describe('the same bytes as encrypting on this thread; the age CLI opens them', () => {
  test.each(SIZES)('%i bytes', async (size) => {
    const plain = await randomFile(t.file(`p${size}`), size);
    const ours = await readAll(encryptFileInWorker(keys, t.file(`p${size}`)));
    expect(ours.equals(await inThread(plain))).toBe(true);
    await writeFile(t.file(`p${size}.age`), ours);
    const out = await cliBytes(['-d', '-i', t.file('key.txt'), t.file(`p${size}.age`)]);
    expect(out.equals(plain)).toBe(true);
  });
});

test('small batches, one in circulation: the same bytes, each batch at most its size', async () => {
  const plain = await randomFile(t.file('small-batches'), 300 * KiB + 5);
  const source = encryptFileInWorker(keys, t.file('small-batches'), { batchBytes: 1000, maxBatches: 1 });
  const parts: Buffer[] = [];
  for await (const chunk of source) {
    expect(chunk.length).toBeLessThanOrEqual(Math.max(1000, keys.prologue.length));
    parts.push(Buffer.from(chunk));
    source.recycle(chunk);
  }
  expect(Buffer.concat(parts).equals(await inThread(plain))).toBe(true);
});

test('a consumer that never gives buffers back still gets every byte', async () => {
  const plain = await randomFile(t.file('no-recycle'), 2 * MiB + 3);
  const source = encryptFileInWorker(keys, t.file('no-recycle'), { batchBytes: 64 * KiB, maxBatches: 2 });
  expect((await readAll(source, false)).equals(await inThread(plain))).toBe(true);
});

test('each iteration reads the file from its start in a worker of its own', async () => {
  const plain = await randomFile(t.file('twice'), 3 * MiB);
  const source = encryptFileInWorker(keys, t.file('twice'));
  const [a, b] = await Promise.all([readAll(source), readAll(source)]);
  const expected = await inThread(plain);
  expect(a.equals(expected)).toBe(true);
  expect(b.equals(expected)).toBe(true);
});

test('a missing file fails with the read error and its code', async () => {
  await expect(readAll(encryptFileInWorker(keys, t.file('absent')))).rejects.toMatchObject({
    code: 'ENOENT',
    syscall: 'open',
  });
});

test('a directory fails with EISDIR', async () => {
  await expect(readAll(encryptFileInWorker(keys, t.dir))).rejects.toMatchObject({ code: 'EISDIR' });
});

test('a consumer that stops early: the worker ends and the file is closed before the loop goes on', async () => {
  await randomFile(t.file('early.bin'), 16 * MiB);
  if (!existsSync('/proc/self/fd')) {
    console.log('skipped the descriptor check: no /proc/self/fd here');
    return;
  }
  const openOnFile = (): number =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === t.file('early.bin');
      } catch {
        return false;
      }
    }).length;
  const source = encryptFileInWorker(keys, t.file('early.bin'), { maxBatches: 2 });
  let n = 0;
  for await (const chunk of source) {
    if (n === 1) expect(openOnFile()).toBe(1);
    source.recycle(chunk);
    if (++n === 3) break;
  }
  expect(openOnFile()).toBe(0);
});

// A child process that stops reading mid-file, by `break` (return) or by dropping the iterator; it must exit on its
// own: a worker left running (or waiting for buffers) would keep it alive until the test's timeout.
describe('stopping mid-file leaves no worker behind', () => {
  const child = (how: 'break' | 'drop' | 'throw', file: string) => `
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { transformSync } = require(${JSON.stringify(require.resolve('@swc/core'))});
Module._extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename, jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
const { encryptFileInWorker } = require(${JSON.stringify(path.join(__dirname, '../src/worker-encrypter.ts'))});
const keys = { prologue: Buffer.from('prologue'), payloadKey: Buffer.alloc(32, 7) };
(async () => {
  const source = encryptFileInWorker(keys, ${JSON.stringify(file)}, { maxBatches: 2 });
  let n = 0;
  if (${JSON.stringify(how)} === 'drop') {
    const it = source[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    console.log('dropped');
    return;
  }
  try {
    for await (const chunk of source) {
      if (++n === 3) {
        if (${JSON.stringify(how)} === 'throw') throw new Error('stop');
        break;
      }
    }
  } catch (err) {
    if (err.message !== 'stop') throw err;
  }
  console.log('stopped after', n);
})();
`;

  test.each(['break', 'drop', 'throw'] as const)('%s', async (how) => {
    await randomFile(t.file('stop.bin'), 32 * MiB);
    const proc = spawn(process.execPath, ['-e', child(how, t.file('stop.bin'))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(how === 'drop' ? /dropped/ : /stopped after 3/);
  });
});
