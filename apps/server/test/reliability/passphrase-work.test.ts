/**
 * Passphrase work (issue 11, fault 9; docs/RELIABILITY.md). With `--passphrase-file`, every age file whose only
 * stanza is `-> scrypt <salt> <logN>` makes the server run scrypt at 2^logN before it can tell the passphrase is
 * wrong: a client that knows no passphrase chose the cost (work factor 20: ~1.4 CPU-seconds and 1 GiB each). The
 * server refuses work factors above `--max-scrypt-work-factor` (default 18, what our client and `age -p` write)
 * before any scrypt runs, runs one derivation at a time, and still opens what the client writes by default.
 *
 * The server runs as a child process so that its CPU time and peak RSS (/proc/<pid>/stat and status) are its own.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encryptFile } from '@proj/crypto';
import { connect } from '@proj/protocol';
import { makeTempDir } from '@proj/test-utils';
import { auditDataDir, buildServer, cpuSeconds, recordFigures, spawnServer, type ChildServer } from './harness';

const PASSPHRASE = 'correct horse battery staple';
const MiB = 1024;

/**
 * An attacker's file: a real passphrase file at work factor 10 whose stanza then claims `logN`. The attacker knows
 * no passphrase and needs none: the server must run scrypt at 2^logN before the wrong key (or the broken MAC)
 * shows. About 220 bytes, like the files of the report.
 */
async function forged(dir: string, name: string, logN: number): Promise<string> {
  const plain = join(dir, `${name}.txt`);
  await writeFile(plain, 'nothing to see here\n');
  const real = join(dir, `${name}.real.age`);
  await encryptFile(plain, real, { passphrase: 'the attacker does not know it', scryptWorkFactor: 10 });
  const bytes = readFileSync(real).toString('latin1');
  const out = join(dir, `${name}.age`);
  const claimed = bytes.replace(/^(-> scrypt \S+) 10$/m, `$1 ${logN}`);
  expect(claimed).not.toBe(bytes);
  await writeFile(out, Buffer.from(claimed, 'latin1'));
  return out;
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return check();
}

describe('passphrase work', () => {
  beforeAll(() => buildServer(), 180_000);

  it('twelve forged files at work factors 20 and 22 run no scrypt: each stored with ERR_AGE_WORK_FACTOR shown, CPU and RSS flat; the client default (18) still opens', async () => {
    const tmp = await makeTempDir('scrypt-work-');
    let server: ChildServer | undefined;
    try {
      const pass = join(tmp.path, 'pass.txt');
      await writeFile(pass, `${PASSPHRASE}\n`, { mode: 0o600 });
      const files = await Promise.all(
        Array.from({ length: 12 }, (_, i) => forged(tmp.path, `f${i}`, i % 2 === 0 ? 20 : 22)),
      );
      server = await spawnServer(join(tmp.path, 'data'), ['--passphrase-file', pass, '--output', 'both']);
      const { pid, port } = server;
      const cpuBefore = cpuSeconds(pid);
      const memBefore = server.memory();

      // The attack of the report: twelve connections at once, one file each.
      const receipts = await Promise.all(
        files.map(async (file, i) => {
          const client = await connect({ port });
          try {
            return await client.sendFile(file, { id: `forged-${i}`, encryption: 'age' });
          } finally {
            await client.close();
          }
        }),
      );
      const s = server;
      // The screen notes come after the receipts; each forged file gets one.
      expect(await until(() => count(s.stdout(), 'cannot decrypt it (') >= 12, 10_000)).toBe(true);
      const cpu = cpuSeconds(pid) - cpuBefore;
      const mem = server.memory();

      // Stored as ciphertext like any file the server cannot open, and the reason is the work factor.
      expect(receipts.every((r) => r.encrypted)).toBe(true);
      expect(count(server.stdout(), 'cannot decrypt it (ERR_AGE_WORK_FACTOR)')).toBe(12);
      // No scrypt ran: today's code spent ~16 CPU-seconds and 2 GiB here (two 1 GiB derivations at a time).
      expect(cpu).toBeLessThan(3);
      expect(mem.hwmKiB - memBefore.hwmKiB).toBeLessThan(128 * MiB);

      // What our client writes by default (work factor 18) still opens, with the passphrase tried once.
      const secret = join(tmp.path, 'secret.txt');
      await writeFile(secret, 'the real secret line\n');
      const enc = join(tmp.path, 'secret.txt.age');
      await encryptFile(secret, enc, { passphrase: PASSPHRASE });
      expect(readFileSync(enc).toString('latin1')).toMatch(/^-> scrypt \S+ 18$/m);
      const client = await connect({ port });
      await client.sendFile(enc, { id: 'legit', encryption: 'age' });
      await client.close();
      expect(await until(() => s.stdout().includes('the real secret line'), 20_000)).toBe(true);

      await s.kill('SIGTERM');
      const audit = await auditDataDir(join(tmp.path, 'data'));
      expect(audit.problems).toEqual([]);
      expect(audit.receipts).toBe(13);
      recordFigures('passphrase-work', {
        files: files.length,
        bytesEach: readFileSync(files[0] as string).length,
        cpuSeconds: Number(cpu.toFixed(2)),
        rssGrowthMiB: Math.round((mem.hwmKiB - memBefore.hwmKiB) / 1024),
      });
    } finally {
      await server?.kill();
      await tmp.remove();
    }
  }, 120_000);

  it('--max-scrypt-work-factor sets the cap: 12 opens a file at 12 and refuses one at 13; a value above 22 is a usage error', async () => {
    const tmp = await makeTempDir('scrypt-cap-');
    let server: ChildServer | undefined;
    try {
      const pass = join(tmp.path, 'pass.txt');
      await writeFile(pass, `${PASSPHRASE}\n`, { mode: 0o600 });
      const plain = join(tmp.path, 'p.txt');
      await writeFile(plain, 'line at twelve\n');
      await encryptFile(plain, join(tmp.path, 'p12.age'), { passphrase: PASSPHRASE, scryptWorkFactor: 12 });
      await writeFile(plain, 'line at thirteen\n');
      await encryptFile(plain, join(tmp.path, 'p13.age'), { passphrase: PASSPHRASE, scryptWorkFactor: 13 });
      server = await spawnServer(join(tmp.path, 'data'), [
        '--passphrase-file',
        pass,
        '--output',
        'screen',
        '--max-scrypt-work-factor',
        '12',
      ]);
      const client = await connect({ port: server.port });
      await client.sendFile(join(tmp.path, 'p12.age'), { id: 'p12', encryption: 'age' });
      await client.sendFile(join(tmp.path, 'p13.age'), { id: 'p13', encryption: 'age' });
      await client.close();
      const s = server;
      expect(await until(() => s.stdout().includes('cannot decrypt it ('), 10_000)).toBe(true);
      expect(s.stdout()).toContain('line at twelve');
      expect(s.stdout()).not.toContain('line at thirteen');
      expect(s.stdout()).toContain('cannot decrypt it (ERR_AGE_WORK_FACTOR)');
      await server.kill();
      server = undefined;

      // The environment variable and the config key follow the flag; out-of-range values stop the start (exit 2).
      const bad = await spawnServer(join(tmp.path, 'data2'), ['--passphrase-file', pass], {
        env: { PROJ_SERVER_MAX_SCRYPT_WORK_FACTOR: '23' },
      }).then(
        (started) => started.kill().then(() => 'started'),
        (err: Error) => err.message,
      );
      expect(bad).toMatch(/work factor/i);
    } finally {
      await server?.kill();
      await tmp.remove();
    }
  }, 60_000);
});
