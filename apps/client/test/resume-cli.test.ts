/**
 * `send-file` across processes: the real program (`node dist/main.js`) is killed with SIGKILL mid-send, and a
 * second run of the same command resumes the put from what the server holds, using the state the first run kept
 * in $XDG_STATE_HOME/proj-client/puts/ (removed once the receipt is in). Encrypted sends too, opened by the age CLI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateIdentity, recipientOf } from '@proj/crypto';
import { makeTempDir, sha256Hex } from '@proj/test-utils';
import {
  jsonLines,
  MAIN,
  runCli,
  startFlakyProxy,
  startTestServer,
  type FlakyProxy,
  type TestServer,
} from './helpers/harness';

const MiB = 1024 * 1024;
const SIZE = 96 * MiB;

let server: TestServer;
let work: { path: string; remove: () => Promise<void> };
let proxy: FlakyProxy;
let stateHome: string;

beforeAll(async () => {
  server = await startTestServer();
  work = await makeTempDir('client-resume-cli-');
});
let testNumber = 0;
beforeEach(async () => {
  testNumber += 1;
  stateHome = join(work.path, `state-${testNumber}`);
  proxy = await startFlakyProxy({ host: '127.0.0.1', port: server.port }, () => 'pass');
});
afterEach(async () => {
  await proxy.close();
});
afterAll(async () => {
  await server.close();
  await server.removeDir();
  await work.remove();
});

const env = (): NodeJS.ProcessEnv => ({ XDG_STATE_HOME: stateHome });
const args = (path: string, more: string[] = []): string[] => [
  'send-file',
  path,
  '--host',
  '127.0.0.1',
  '--port',
  String(proxy.port),
  '--json',
  ...more,
];

/** Starts the CLI and SIGKILLs it once the proxy has seen `after` bytes from it. */
async function killMidSend(argv: string[], after: number): Promise<void> {
  const child = spawn(process.execPath, [MAIN, ...argv], {
    env: { ...process.env, PROJ_HOST: '', PROJ_PORT: '', PROJ_CLIENT_SCRYPT_WORK_FACTOR: '10', ...env() },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while ((proxy.clientBytes[0] ?? 0) < after) {
    if (Date.now() > deadline) throw new Error('the first run never sent enough');
    await new Promise((r) => setTimeout(r, 2));
  }
  child.kill('SIGKILL');
  await exited;
}

async function stateFiles(): Promise<string[]> {
  return readdir(join(stateHome, 'proj-client', 'puts')).catch(() => []);
}

test('a second send-file after the first was killed resumes: only the missing bytes are sent; the state is removed', async () => {
  const path = join(work.path, 'big.bin');
  const content = randomBytes(SIZE);
  await writeFile(path, content);
  await killMidSend(args(path), 8 * MiB);
  expect(proxy.clientBytes[0]).toBeLessThan(SIZE);
  const files = await stateFiles();
  expect(files).toHaveLength(1);
  expect((await stat(join(stateHome, 'proj-client', 'puts', files[0] as string))).mode & 0o777).toBe(0o600);

  const r = await runCli(args(path), env());
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const [line] = jsonLines(r.stdout);
  expect(line).toMatchObject({ ok: true, bytes: SIZE, sha256: sha256Hex(content), duplicate: false });
  const resumedFrom = line?.resumedFrom as number;
  expect(resumedFrom).toBeGreaterThan(0);
  expect(proxy.clientBytes[1]).toBeLessThanOrEqual(SIZE - resumedFrom + 64 * 1024);
  expect((await readFile(join(server.dataDir, line?.path as string))).equals(content)).toBe(true);
  expect(await stateFiles()).toEqual([]);
});

test('--no-resume sends the whole file again', async () => {
  const path = join(work.path, 'again.bin');
  const content = randomBytes(SIZE / 2);
  await writeFile(path, content);
  await killMidSend(args(path), 8 * MiB);
  const r = await runCli(args(path, ['--no-resume']), env());
  expect(r.code).toBe(0);
  const [line] = jsonLines(r.stdout);
  expect(line?.resumedFrom).toBeUndefined();
  expect(proxy.clientBytes[1]).toBeGreaterThan(content.length);
  expect((await readFile(join(server.dataDir, line?.path as string))).equals(content)).toBe(true);
});

test('an encrypted send-file killed mid-send resumes with the same ciphertext; age opens the stored file', async () => {
  const path = join(work.path, 'secret.bin');
  const content = randomBytes(SIZE / 2);
  await writeFile(path, content);
  const identity = await generateIdentity();
  const recipient = await recipientOf(identity);
  await killMidSend(args(path, ['--recipient', recipient]), 8 * MiB);
  const r = await runCli(args(path, ['--recipient', recipient]), env());
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const [line] = jsonLines(r.stdout);
  expect(line).toMatchObject({ ok: true, encrypted: true });
  expect(line?.resumedFrom as number).toBeGreaterThan(0);
  expect(await stateFiles()).toEqual([]);
  if (spawnSync('age', ['--version']).error) {
    console.log('skipped the age CLI check: age is not installed');
    return;
  }
  const keyFile = join(work.path, 'id.txt');
  await writeFile(keyFile, `${identity}\n`, { mode: 0o600 });
  const out = spawnSync('age', ['-d', '-i', keyFile, join(server.dataDir, line?.path as string)], {
    maxBuffer: 2 * SIZE,
  });
  expect(out.status).toBe(0);
  expect(Buffer.from(out.stdout).equals(content)).toBe(true);
});
