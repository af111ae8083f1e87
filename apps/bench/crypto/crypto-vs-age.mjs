// Benchmark: @proj/crypto against the `age` CLI, X25519, file to file, same input, same run.
//   pnpm --filter @proj/bench bench:crypto [-- --quick | --size MiB] [--runs N]   (pnpm bench runs it too)
// Each side runs in its own child process so that its peak RSS can be read: ours reports
// process.resourceUsage().maxRSS, the CLI's comes from GNU time (`/usr/bin/time -f %M`) when present.
// Outputs are compared byte for byte across implementations (ours opens the CLI's file and vice versa).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomFillSync } from 'node:crypto';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let sizeMiB = 256;
if (args.includes('--quick')) sizeMiB = 64;
const sizeAt = args.indexOf('--size');
if (sizeAt >= 0) sizeMiB = Number(args[sizeAt + 1]);
if (!Number.isFinite(sizeMiB) || sizeMiB <= 0) throw new Error('--size takes a number of MiB');
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 3;
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
/** Best wall time of `runs` runs (the least disturbed by other load); peak RSS is the highest seen. */
const best = (fn) => {
  const all = Array.from({ length: runs }, fn);
  return { seconds: Math.min(...all.map((r) => r.seconds)), maxRssKiB: Math.max(...all.map((r) => r.maxRssKiB)) };
};
const hasGnuTime = existsSync('/usr/bin/time');

const dir = mkdtempSync(path.join(tmpdir(), 'crypto-bench-'));
try {
  const plain = path.join(dir, 'plain.bin');
  const key = path.join(dir, 'key.txt');
  execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();
  // Random data (so nothing compresses or dedups), written once in 1 MiB blocks.
  const block = Buffer.alloc(1 << 20);
  const fd = openSync(plain, 'w');
  for (let i = 0; i < sizeMiB; i++) writeSync(fd, randomFillSync(block));
  closeSync(fd);

  const ours = (mode, input, output, durability = 'fsync') => {
    const r = spawnSync(process.execPath, [path.join(here, 'crypto-one.mjs'), mode, input, output, key, durability], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`ours ${mode} failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const cli = (ageArgs) => {
    const start = process.hrtime.bigint();
    const r = hasGnuTime
      ? spawnSync('/usr/bin/time', ['-f', '%M', 'age', ...ageArgs], { encoding: 'utf8' })
      : spawnSync('age', ageArgs, { encoding: 'utf8' });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (r.status !== 0) throw new Error(`age ${ageArgs.join(' ')} failed: ${r.stderr}`);
    const maxRssKiB = hasGnuTime ? Number(r.stderr.trim().split('\n').pop()) : NaN;
    return { seconds, maxRssKiB };
  };
  const sha = (file) =>
    new Promise((resolve, reject) => {
      const h = createHash('sha256');
      createReadStream(file)
        .on('data', (d) => h.update(d))
        .on('end', () => resolve(h.digest('hex')))
        .on('error', reject);
    });

  // Warm the page cache once so that the first measured run does not pay for the disk.
  await sha(plain);
  const results = {
    'encrypt ours': best(() => ours('encrypt', plain, path.join(dir, 'ours.age'))),
    'encrypt ours, no fsync': best(() => ours('encrypt', plain, path.join(dir, 'ours.age'), 'no-fsync')),
    'encrypt age CLI': best(() => cli(['-r', recipient, '-o', path.join(dir, 'cli.age'), plain])),
    // Cross: ours decrypts the CLI's file, the CLI decrypts ours.
    'decrypt ours': best(() => ours('decrypt', path.join(dir, 'cli.age'), path.join(dir, 'ours.out'))),
    'decrypt ours, no fsync': best(() =>
      ours('decrypt', path.join(dir, 'cli.age'), path.join(dir, 'ours.out'), 'no-fsync'),
    ),
    'decrypt age CLI': best(() => cli(['-d', '-i', key, '-o', path.join(dir, 'cli.out'), path.join(dir, 'ours.age')])),
  };
  const want = await sha(plain);
  if ((await sha(path.join(dir, 'ours.out'))) !== want || (await sha(path.join(dir, 'cli.out'))) !== want) {
    throw new Error('round trip mismatch');
  }

  const mib = (s) => (sizeMiB / s).toFixed(0);
  console.log(
    `@proj/crypto vs age ${execFileSync('age', ['--version'], { encoding: 'utf8' }).trim()}, X25519, ${sizeMiB} MiB file to file, best of ${runs}, node ${process.version}`,
  );
  console.log('ours: child process, fsyncs its output before the rename unless marked; age CLI: no fsync');
  console.log('| run | seconds | MiB/s | peak RSS MiB |');
  console.log('|---|---|---|---|');
  for (const [name, r] of Object.entries(results)) {
    const rss = Number.isNaN(r.maxRssKiB) ? 'n/a' : (r.maxRssKiB / 1024).toFixed(0);
    console.log(`| ${name} | ${r.seconds.toFixed(2)} | ${mib(r.seconds)} | ${rss} |`);
  }
  const ratio = (a, b) => (results[b].seconds / results[a].seconds).toFixed(2);
  console.log(
    `throughput ratio ours/CLI: encrypt ${ratio('encrypt ours', 'encrypt age CLI')}, decrypt ${ratio('decrypt ours', 'decrypt age CLI')} (target >= 0.5)`,
  );
  console.log(
    `same without our fsync (the CLI never fsyncs): encrypt ${ratio('encrypt ours, no fsync', 'encrypt age CLI')}, decrypt ${ratio('decrypt ours, no fsync', 'decrypt age CLI')}`,
  );
  console.log(
    `our peak RSS: encrypt ${(results['encrypt ours'].maxRssKiB / 1024).toFixed(0)} MiB, decrypt ${(results['decrypt ours'].maxRssKiB / 1024).toFixed(0)} MiB (target < 128)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
