/**
 * The server as a command-line tool (issue #17): --version, help that shows serve's options, unknown commands,
 * short flags, paths relative to where pnpm was started, listen problems told in words before anything is created,
 * the start-up prompt asking again at once, NO_COLOR at the prompts, what is printed by default off a terminal,
 * and the program under real pnpm (`-- --help`, a clean Ctrl-C) and installed on a PATH. Real processes throughout.
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { encryptFile } from '@proj/crypto';
import { connect } from '@proj/protocol';
import { makeTempDir, Pty } from '@proj/test-utils';
import { waitFor } from './helpers';

const APP = resolve(__dirname, '..');
const ROOT = resolve(APP, '..', '..');
const MAIN = join(APP, 'dist', 'main.js');
/** Not an address of any machine (TEST-NET-1, RFC 5737): listening on it fails with EADDRNOTAVAIL. */
const FOREIGN = '192.0.2.1';

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b'], { cwd: APP, stdio: 'inherit' });
}, 120_000);

let tmp: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir('server-basics-');
});
afterEach(async () => {
  await tmp.remove();
});

/** Backspaces enough to empty a prompt's answer. */
const ERASE = '\u007f'.repeat(24);

const QUIET_ENV = { INIT_CWD: '', npm_package_json: '' };

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runToEnd(args: string[], env: NodeJS.ProcessEnv = {}, command = process.execPath, cwd = APP): Ended {
  const r = spawnSync(command, command === process.execPath ? [MAIN, ...args] : args, {
    cwd,
    env: { ...process.env, ...QUIET_ENV, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  port: number;
  stdout: () => string;
  exit: Promise<number | null>;
}

/** Starts the server with pipes for standard streams and waits for its listening line. */
async function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...QUIET_ENV, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  await waitFor(() => /listening on \S+:\d+/.test(out) || child.exitCode !== null, 30_000);
  const m = /listening on \S+:(\d+)/.exec(out);
  if (!m) throw new Error(`server did not start:\n${out}\n${err}`);
  return { child, port: Number(m[1]), stdout: () => out, exit };
}

async function stop(s: Running): Promise<number | null> {
  s.child.kill('SIGTERM');
  return s.exit;
}

describe('the command line', () => {
  it('prints its version with --version and -V', async () => {
    const { version } = JSON.parse(await readFile(join(APP, 'package.json'), 'utf8')) as { version: string };
    expect(runToEnd(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(runToEnd(['-V']).stdout).toBe(`${version}\n`);
  });

  it('server --help shows the commands and serve’s own options', () => {
    const r = runToEnd(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: server \[options\] \[command\]/);
    expect(r.stdout).toContain('list [options]');
    for (const flag of ['-p, --port <n>', '-H, --host <address>', '-d, --data-dir <dir>', '-o, --output <mode>'])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('--max-file-bytes <size>');
  });

  it('names an unknown command with the nearest one, and words every usage error "server: error:"', () => {
    const typo = runToEnd(['lsit']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^server: error: unknown command 'lsit'\n\(Did you mean list\?\)/);
    expect(typo.stderr).not.toMatch(/too many arguments/);
    const option = runToEnd(['--bogus', '-d', join(tmp.path, 'd')]);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/^server: error: unknown option '--bogus'/);
    expect(existsSync(join(tmp.path, 'd'))).toBe(false);
  });

  it('with --json, an item command tells a failure as one JSON line on stdout with its code (and in words on stderr)', () => {
    const data = join(tmp.path, 'json-failures');
    const lines = (r: Ended) =>
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown);
    const missing = runToEnd(['show', 'nosuch', '-d', data, '--json']);
    expect(missing.code).toBe(1);
    expect(lines(missing)).toEqual([
      {
        ok: false,
        code: 'ERR_NOT_FOUND',
        message: expect.stringContaining('no item with the id "nosuch"'),
        exitCode: 1,
      },
    ]);
    expect(missing.stderr).toMatch(/^server: error: no item with the id "nosuch".* \(ERR_NOT_FOUND\)\n$/);
    const since = runToEnd(['list', '--since', 'soon', '-d', data, '--json']);
    expect(since.code).toBe(2);
    expect(lines(since)).toEqual([
      { ok: false, code: 'ERR_USAGE', message: expect.stringMatching(/^--since: expected an age/), exitCode: 2 },
    ]);
    const option = runToEnd(['rm', 'x', '--bogus', '-d', data, '--json']);
    expect(option.code).toBe(2);
    expect(lines(option)).toEqual([{ ok: false, code: 'ERR_USAGE', message: "unknown option '--bogus'", exitCode: 2 }]);
    expect(option.stderr).toMatch(/^server: error: unknown option '--bogus'/);
    // Without --json, standard output stays empty.
    expect(runToEnd(['show', 'nosuch', '-d', data]).stdout).toBe('');
  });

  it('takes short flags: -H -p -d -o (and -H -p for health)', async () => {
    const data = join(tmp.path, 'short');
    const s = await start(['-H', '127.0.0.1', '-p', '0', '-d', data, '-o', 'both']);
    try {
      const client = await connect({ port: s.port });
      await client.sendDict({ short: 'flags' });
      await client.close();
      await waitFor(() => s.stdout().includes('"short": "flags"'));
      expect(s.stdout()).toContain(`data in ${data}`);
      const health = runToEnd(['health', '-H', '127.0.0.1', '-p', String(s.port)]);
      expect(health.code).toBe(0);
      expect(health.stdout).toMatch(new RegExp(`^ok: .* at 127\\.0\\.0\\.1:${s.port}, `));
    } finally {
      expect(await stop(s)).toBe(0);
    }
  });

  it('resolves a relative --data-dir against the folder pnpm was started in, only under its own script', async () => {
    const underPnpm = { INIT_CWD: tmp.path, npm_package_json: join(APP, 'package.json') };
    const s = await start(['-p', '0', '-d', 'rel-data'], underPnpm);
    expect(await stop(s)).toBe(0);
    expect(existsSync(join(tmp.path, 'rel-data', 'identity.txt'))).toBe(true);
    // Another package's script (the command installed on the PATH, started from some project): the process's own
    // working directory counts, here the app's folder.
    const other = await start(['-p', '0', '-d', join(tmp.path, 'abs')], {
      INIT_CWD: join(tmp.path, 'elsewhere'),
      npm_package_json: join(tmp.path, 'package.json'),
    });
    expect(await stop(other)).toBe(0);
    expect(existsSync(join(tmp.path, 'elsewhere'))).toBe(false);
  });
});

describe('listen problems, told before anything is created', () => {
  let holder: Server;
  let takenPort: number;
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    takenPort = (holder.address() as AddressInfo).port;
  });
  afterAll(() => {
    holder.close();
  });

  it('a taken port: one line in words with the code, exit 1, no data directory or identity made', () => {
    const data = join(tmp.path, 'never');
    const r = runToEnd(['-p', String(takenPort), '-d', data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `server: error: cannot listen on 127.0.0.1:${takenPort}: another program already uses port ${takenPort}; stop it, or choose another port with --port (0 picks a free one) (EADDRINUSE)\n`,
    );
    expect(r.stdout).toBe('');
    expect(existsSync(data)).toBe(false);
  });

  it('an address that is not this machine’s: a usage error, exit 2, nothing made', () => {
    const data = join(tmp.path, 'never');
    const r = runToEnd(['-H', FOREIGN, '-p', '5999', '-d', data]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^server: error: cannot listen on ${FOREIGN.replace(/\./g, '\\.')}:5999: .* is not an address of this machine`,
      ),
    );
    expect(existsSync(data)).toBe(false);
  });

  it('at the start-up prompt, a bad address and a taken port are refused at once and asked again', async () => {
    const data = join(tmp.path, 'asked');
    const pty = new Pty(process.execPath, [MAIN, '--log-level', 'warn', '-d', data, '-o', 'file', '--no-decrypt'], {
      cwd: tmp.path,
      env: QUIET_ENV,
    });
    try {
      await pty.expect('Address to listen on');
      pty.write(`\u0015${FOREIGN}\r`);
      await pty.expect('is not an address of this machine');
      pty.write(`${ERASE}127.0.0.1\r`);
      await pty.expect('Port');
      pty.write(`\u0015${takenPort}\r`);
      await pty.expect('another program already uses port');
      pty.write(`${ERASE}0\r`);
      await pty.expect(/listening on 127\.0\.0\.1:\d+/);
    } finally {
      await pty.stop();
    }
  });
});

describe('what is printed', () => {
  it('off a terminal, by default, no content (not even decrypted): a notice per item; -o both shows it', async () => {
    const secret = 'the launch code is 0000';
    for (const [args, shown] of [
      [[], false],
      [['-o', 'both'], true],
    ] as const) {
      const s = await start(['-p', '0', '-d', join(tmp.path, `d${args.length}`), ...args]);
      try {
        const client = await connect({ port: s.port });
        const recipient = client.welcome.encryption.recipient as string;
        expect(recipient).toMatch(/^age1/);
        const plain = join(tmp.path, 'secret.txt');
        const sealed = join(tmp.path, 'secret.txt.age');
        await writeFile(plain, `${secret}\n`);
        await encryptFile(plain, sealed, { recipients: [recipient] });
        await client.sendFile(sealed, { encryption: 'age' });
        await client.close();
        await waitFor(() => s.stdout().includes('disconnected'));
        expect(s.stdout()).toMatch(/saved file \S+ "secret\.txt\.age"/);
        expect(s.stdout().includes(secret)).toBe(shown);
      } finally {
        expect(await stop(s)).toBe(0);
      }
    }
  });

  it('at a terminal, by default, the content is shown', async () => {
    const pty = new Pty(process.execPath, [MAIN, '--no-prompt', '-p', '0', '-d', join(tmp.path, 't')], {
      cwd: tmp.path,
      env: QUIET_ENV,
    });
    try {
      const line = await pty.expect(/listening on 127\.0\.0\.1:\d+/);
      const client = await connect({ port: Number(/:(\d+)/.exec(line)?.[1]) });
      await client.sendDict({ at: 'a terminal' });
      await client.close();
      await pty.expect('"at": "a terminal"');
    } finally {
      await pty.stop();
    }
  });

  it('NO_COLOR: the start-up prompts draw no colour (and do without it)', async () => {
    const sgr = /\u001b\[[0-9;]*m/;
    const raw: Record<string, string> = {};
    for (const [label, env] of [
      ['coloured', { FORCE_COLOR: '1' }],
      ['NO_COLOR', { FORCE_COLOR: '1', NO_COLOR: '1' }],
    ] as const) {
      const pty = new Pty(process.execPath, [MAIN, '-d', join(tmp.path, label)], {
        cwd: tmp.path,
        env: { ...QUIET_ENV, ...env },
      });
      try {
        await pty.expect('Address to listen on');
        raw[label] = pty.raw;
      } finally {
        await pty.stop();
      }
    }
    expect(raw.coloured).toMatch(sgr);
    expect(raw.NO_COLOR).not.toMatch(sgr);
  });
});

/** pnpm, when it is on the PATH (the README installs it); otherwise these tests say why they skip. */
const PNPM = spawnSync('pnpm', ['--version'], { encoding: 'utf8' }).status === 0 ? 'pnpm' : undefined;
const withPnpm = PNPM ? it : it.skip;
if (!PNPM) console.warn('skipped: pnpm is not on the PATH, so `pnpm --filter server start` cannot be tried');

describe('under pnpm, and installed on the PATH', () => {
  withPnpm('`pnpm --filter server start -- --help` reaches the program’s own help', () => {
    const r = runToEnd(['--filter', 'server', 'start', '--', '--help'], {}, 'pnpm', ROOT);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: server [options] [command]');
    expect(r.stdout).toContain('-p, --port <n>');
    // `run start` hands even a bare --help to the program.
    const viaRun = runToEnd(['--filter', 'server', 'run', 'start', '--help'], {}, 'pnpm', ROOT);
    expect(viaRun.code).toBe(0);
    expect(viaRun.stdout).toContain('Usage: server [options] [command]');
  });

  withPnpm(
    'Ctrl-C of `pnpm --filter server start` stops cleanly: exit 0, no pnpm failure box',
    async () => {
      const data = join(tmp.path, 'pnpm-data');
      const pty = new Pty('pnpm', ['--filter', 'server', 'start', '--no-prompt', '-p', '0', '-d', data], {
        cwd: ROOT,
        env: QUIET_ENV,
      });
      try {
        await pty.expect(/listening on 127\.0\.0\.1:\d+/, 60_000);
        pty.write('\u0003');
        expect(await pty.exited).toBe(0);
        expect(pty.screen).toContain('stopped');
        expect(pty.screen).not.toMatch(/ERR_PNPM|ELIFECYCLE|again: stopping now/);
      } finally {
        await pty.stop();
      }
    },
    90_000,
  );

  withPnpm(
    '`pnpm add -g link:…` puts proj-server and proj-client on the PATH (README, "Install")',
    async () => {
      const home = join(tmp.path, 'home');
      const bin = join(home, 'pnpm', 'bin');
      const env = {
        HOME: home,
        PNPM_HOME: join(home, 'pnpm'),
        XDG_DATA_HOME: join(home, 'share'),
        XDG_CONFIG_HOME: join(home, 'config'),
        XDG_CACHE_HOME: join(home, 'cache'),
        XDG_STATE_HOME: join(home, 'state'),
        PATH: `${bin}:${process.env.PATH ?? ''}`,
      };
      const add = runToEnd(['add', '-g', `link:${APP}`, `link:${join(ROOT, 'apps', 'client')}`], env, 'pnpm', tmp.path);
      expect(add.code).toBe(0);
      const { version } = JSON.parse(await readFile(join(APP, 'package.json'), 'utf8')) as { version: string };
      for (const command of ['proj-server', 'proj-client']) {
        const r = runToEnd(['--version'], env, join(bin, command), tmp.path);
        expect(r).toMatchObject({ code: 0, stdout: `${version}\n` });
      }
    },
    90_000,
  );
});
