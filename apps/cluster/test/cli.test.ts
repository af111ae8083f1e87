/**
 * The command itself (../src/main.ts, what `pnpm cluster` runs): `up` prints the address and a client stores
 * there, `status` exits 0 while every part is ready, `down` stops it all and `status` then exits 1; usage errors
 * exit 2 with the usage.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '@proj/protocol';
import { makeTempDir } from '@proj/test-utils';
import { isAlive } from '../src/processes';
import { missingTools } from './helpers';

const run = promisify(execFile);
const MAIN = join(__dirname, '..', 'dist', 'main.js');

async function cluster(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const skip = missingTools();
const testCluster = skip ? test.skip : test;

testCluster(
  'up, a client at the printed address, status, down',
  async () => {
    const dir = await makeTempDir('proj-cluster-cli-');
    try {
      let up = { code: -1, stdout: '', stderr: '' };
      for (let attempt = 0; attempt < 5; attempt++) {
        const base = 20_000 + Math.floor(Math.random() * 4_000) * 10;
        up = await cluster('up', '--run-dir', dir.path, '--base-port', String(base));
        if (!/is taken/.test(up.stderr)) break;
      }
      expect(up).toMatchObject({ code: 0 });
      const port = Number(/clients connect to 127\.0\.0\.1:(\d+)/.exec(up.stdout)?.[1]);
      const client = await connect({ port, keepAlive: false });
      expect((await client.sendDict({ via: 'pnpm cluster' })).duplicate).toBe(false);
      await client.close();

      const status = await cluster('status', '--run-dir', dir.path);
      expect(status.code).toBe(0);
      expect(status.stdout.match(/ ready /g)).toHaveLength(7);
      const json = await cluster('status', '--run-dir', dir.path, '--json');
      const pids = (JSON.parse(json.stdout) as { processes: Array<{ pid: number }> }).processes.map((p) => p.pid);

      const again = await cluster('up', '--run-dir', dir.path);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already up/);

      expect(await cluster('down', '--run-dir', dir.path)).toMatchObject({ code: 0, stdout: 'stopped 7 processes\n' });
      expect(pids.filter(isAlive)).toEqual([]);
      expect(await cluster('status', '--run-dir', dir.path)).toMatchObject({ code: 1, stdout: /no cluster/ });
    } finally {
      await cluster('down', '--run-dir', dir.path);
      await dir.remove();
    }
  },
  90_000,
);

test.each([
  [['start'], /unknown command start/],
  [[], /a command is needed/],
  [['up', '--base-port', 'seventy'], /--base-port/],
  [['up', '--store', 'postgres'], /--store: expected nats or local/],
])('usage error %j: exit 2 and the usage', async (args, message) => {
  const r = await cluster(...args);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/usage: pnpm cluster <up\|down\|status>/);
});
