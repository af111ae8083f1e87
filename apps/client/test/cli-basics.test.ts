/**
 * The client as a command-line tool (issue #17): paths relative to where the person typed the command, --version,
 * unknown commands, short flags, --quiet, --json failures, errors in words before connecting, `send-file -`,
 * NO_COLOR at the prompts, and the host and port flags the interactive session does not ask again. Every case runs
 * the real program (`node dist/main.js`, a pseudo-terminal for the prompts) against a real server.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makeTempDir, Pty, sha256File, sha256Hex } from '@proj/test-utils';
import {
  CLIENT_DIR,
  jsonLines,
  MAIN,
  runCli,
  startTestServer,
  type CliResult,
  type TestServer,
} from './helpers/harness';

let server: TestServer;
let work: { path: string; remove: () => Promise<void> };
const at = (): string[] => ['-H', '127.0.0.1', '-p', String(server.port)];

beforeAll(async () => {
  server = await startTestServer();
  work = await makeTempDir('client-basics-');
});
afterAll(async () => {
  await server.close();
  await server.removeDir();
  await work.remove();
});

/** The environment pnpm gives a script of the client's package started from `folder`. */
function underPnpm(folder: string): NodeJS.ProcessEnv {
  return { INIT_CWD: folder, npm_package_json: join(CLIENT_DIR, 'package.json'), npm_lifecycle_event: 'start' };
}

describe('paths', () => {
  it('resolves send-file paths and --data-file against the folder pnpm was started in (INIT_CWD)', async () => {
    const folder = join(work.path, 'typed-here');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'notes.txt'), 'relative notes\n');
    await writeFile(join(folder, 'd.json'), '{"from":"relative"}');
    const file = await runCli(['send-file', ...at(), 'notes.txt', '--json'], underPnpm(folder));
    expect(file.stderr).toBe('');
    expect(file.code).toBe(0);
    const [receipt] = jsonLines(file.stdout);
    expect(await readFile(join(server.dataDir, String(receipt?.path)), 'utf8')).toBe('relative notes\n');
    const dict = await runCli(['send-dict', ...at(), '--data-file', 'd.json', '--json'], underPnpm(folder));
    expect(dict.code).toBe(0);
    const [dictReceipt] = jsonLines(dict.stdout);
    expect(JSON.parse(await readFile(join(server.dataDir, String(dictReceipt?.path)), 'utf8'))).toEqual({
      from: 'relative',
    });
  });

  it('ignores INIT_CWD left by another package’s script (the command installed on the PATH)', async () => {
    const r = await runCli(['send-file', ...at(), 'package.json', '--json'], {
      INIT_CWD: work.path,
      npm_package_json: join(work.path, 'package.json'),
    });
    expect(r.code).toBe(0);
    const [receipt] = jsonLines(r.stdout);
    expect(receipt?.sha256).toBe(await sha256File(join(CLIENT_DIR, 'package.json')));
  });
});

describe('the command line', () => {
  it('prints its version with --version and -V, exit 0', async () => {
    const { version } = JSON.parse(await readFile(join(CLIENT_DIR, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('names an unknown command and suggests the nearest one, exit 2', async () => {
    const r = await runCli(['sned-file', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^client: error: unknown command 'sned-file'\n\(Did you mean send-file\?\)/);
    expect(r.stderr).not.toMatch(/too many arguments/);
  });

  it('drops the `--` pnpm passes on (`pnpm --filter client start -- --help`)', async () => {
    const r = await runCli(['--', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: client /);
  });

  it('takes short flags: -H -p -f -d, -n -e -j', async () => {
    const dict = await runCli(['send-dict', ...at(), '-f', 'xml', '-d', '{"short":true}', '-j']);
    expect(dict.code).toBe(0);
    expect(jsonLines(dict.stdout)[0]).toMatchObject({ ok: true, format: 'xml' });
    const path = join(work.path, 'short.txt');
    await writeFile(path, 'short flags\n');
    const file = await runCli(['send-file', ...at(), path, '-n', 'named.txt', '-e', '-j']);
    expect(file.code).toBe(0);
    expect(jsonLines(file.stdout)[0]).toMatchObject({ ok: true, encrypted: true });
    expect(String(jsonLines(file.stdout)[0]?.path)).toMatch(/named\.txt\.age$/);
  });

  it('--quiet prints nothing on success; the item is sent all the same', async () => {
    const r = await runCli(['send-dict', ...at(), '-q', '-d', '{"quiet":1}']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await runCli(['ping', ...at(), '-q'])).toEqual({ code: 0, stdout: '', stderr: '' });
    const failed = await runCli(['ping', '-p', '1', '-q']);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/^client: error: .*\(ERR_CONNECT\)\n$/);
  });

  it('with --json, a failure is one JSON line on stdout with its code and exit code (and words on stderr)', async () => {
    const refused = await runCli(['send-dict', '-p', '1', '-d', '{}', '--json']);
    expect(refused.code).toBe(3);
    expect(jsonLines(refused.stdout)).toEqual([
      { ok: false, code: 'ERR_CONNECT', message: expect.stringContaining('nobody is listening'), exitCode: 3 },
    ]);
    expect(refused.stderr).toMatch(/^client: error: .* \(ERR_CONNECT\)\n$/);
    const usage = await runCli(['send-dict', '--bogus', '--json']);
    expect(usage.code).toBe(2);
    expect(jsonLines(usage.stdout)).toEqual([
      { ok: false, code: 'ERR_USAGE', message: "unknown option '--bogus'", exitCode: 2 },
    ]);
    expect(usage.stderr).toMatch(/^client: error: unknown option '--bogus'/);
  });
});

describe('errors in words, before connecting', () => {
  it('an unreadable file: exit 2, "permission denied", and no connection made', async () => {
    const path = join(work.path, 'secret.txt');
    await writeFile(path, 'not for you\n');
    await chmod(path, 0o000);
    // A listener that counts connections stands in for the server: none may be made.
    let connections = 0;
    const listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    try {
      // Root reads any file: run the client as nobody then (the test folder must let it in).
      const asRoot = process.getuid?.() === 0;
      if (asRoot) await chmod(work.path, 0o755);
      const r = await runAs(asRoot ? 65534 : undefined, ['send-file', '-p', String(port), path]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`client: error: file ${path}: permission denied, cannot read it\n`);
      expect(connections).toBe(0);
    } finally {
      listener.close();
    }
  });

  it('a missing file among several: nothing is sent', async () => {
    const ok = join(work.path, 'there.txt');
    await writeFile(ok, 'there\n');
    const r = await runCli(['send-file', ...at(), ok, join(work.path, 'missing.txt'), '--json']);
    expect(r.code).toBe(2);
    expect(jsonLines(r.stdout)).toEqual([expect.objectContaining({ ok: false, code: 'ERR_USAGE' })]);
  });
});

describe('send-file -', () => {
  it('sends standard input as a file, named with --name, and checks the receipt', async () => {
    const body = `${'from a pipe\n'.repeat(10_000)}end\n`;
    const r = await runCli(['send-file', ...at(), '-', '--name', 'piped.txt', '--json'], {}, body);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [receipt] = jsonLines(r.stdout);
    expect(receipt).toMatchObject({ ok: true, kind: 'file', source: '-', bytes: Buffer.byteLength(body) });
    expect(String(receipt?.path)).toMatch(/piped\.txt$/);
    expect(receipt?.sha256).toBe(sha256Hex(Buffer.from(body)));
    expect(await readFile(join(server.dataDir, String(receipt?.path)), 'utf8')).toBe(body);
  });

  it('without --name, the item is called stdin (stdin.age when encrypted)', async () => {
    const r = await runCli(['send-file', ...at(), '-', '--encrypt', '--json'], {}, 'secret from a pipe\n');
    expect(r.code).toBe(0);
    const [receipt] = jsonLines(r.stdout);
    expect(String(receipt?.path)).toMatch(/stdin\.age$/);
    expect(receipt).toMatchObject({ encrypted: true });
    const words = await runCli(['send-file', ...at(), '-', '--name', 'said.txt'], {}, 'in words\n');
    expect(words.code).toBe(0);
    expect(words.stdout).toMatch(/^sent standard input -> items\/\S+-said\.txt \(9 B, sha256 /);
  });

  it('refuses - twice', async () => {
    const r = await runCli(['send-file', ...at(), '-', '-']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/client: error: - \(standard input\) can be sent once/);
  });
});

describe('at a terminal', () => {
  it('client --host H --port P goes straight to the menu: neither is asked again', async () => {
    const pty = new Pty(process.execPath, [MAIN, ...at()], {
      cwd: CLIENT_DIR,
      env: { PROJ_HOST: '', PROJ_PORT: '', INIT_CWD: '' },
    });
    try {
      await pty.expect('What would you like to do?');
      expect(pty.screen).not.toMatch(/Server host|Server port/);
      expect(pty.screen).toContain(`Connected to 127.0.0.1:${server.port}`);
    } finally {
      await pty.stop();
    }
  });

  it('NO_COLOR: the prompts draw no colour (and do without it)', async () => {
    const sgr = /\u001b\[[0-9;]*m/;
    const screens: Record<string, string> = {};
    for (const [label, env] of [
      ['coloured', { FORCE_COLOR: '1' }],
      ['NO_COLOR', { FORCE_COLOR: '1', NO_COLOR: '1' }],
    ] as const) {
      const pty = new Pty(process.execPath, [MAIN, '-p', String(server.port)], {
        cwd: CLIENT_DIR,
        env: { PROJ_HOST: '', PROJ_PORT: '', INIT_CWD: '', ...env },
      });
      try {
        await pty.expect('Server host');
        pty.write('\r');
        await pty.expect('What would you like to do?');
        screens[label] = pty.raw;
      } finally {
        await pty.stop();
      }
    }
    // The control: the same prompts do colour when allowed, so the check below can fail.
    expect(screens.coloured).toMatch(sgr);
    expect(screens.NO_COLOR).not.toMatch(sgr);
  });
});

/** Runs the client (as user `uid` when given) to the end. */
async function runAs(uid: number | undefined, args: string[]): Promise<CliResult> {
  await stat(MAIN);
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: '/',
    env: { ...process.env, PROJ_HOST: '', PROJ_PORT: '', INIT_CWD: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
