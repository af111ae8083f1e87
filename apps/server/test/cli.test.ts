/** The program itself: non-interactive runs, option precedence, exit codes, `list`, signals, and prompts in a real terminal. */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { connect } from '@proj/protocol';
import { makeTempDir, Pty } from '@proj/test-utils';
import { defaultLogLevel } from '../src/commands/serve';
import { chunks, waitFor } from './helpers';

const APP = resolve(__dirname, '..');
const MAIN = join(APP, 'dist', 'main.js');

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b'], { cwd: APP, stdio: 'inherit' });
}, 120_000);

interface Running {
  child: ChildProcessWithoutNullStreams;
  port: number;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Runs the server with standard input not a terminal, and waits for its "listening" line. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, INIT_CWD: '', ...env },
    stdio: 'pipe',
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
    if (m) return { child, port: Number(m[1]), stdout: () => out, stderr: () => err, exit };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs to completion, returns the exit code and output. */
function runToEnd(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, INIT_CWD: '', ...env },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

describe('command line', () => {
  let tmp: { path: string; remove: () => Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir();
  });
  afterEach(async () => {
    await tmp.remove();
  });

  it('runs without prompting when stdin is not a terminal, shows no content, logs JSON on stderr, exits 0 on SIGTERM', async () => {
    const data = join(tmp.path, 'data');
    const s = await run(['--port', '0', '--data-dir', data]);
    const client = await connect({ port: s.port });
    expect(client.welcome.limits.maxDictDepth).toBe(32);
    await client.sendDict({ hello: 'cli' }, { id: 'cli-1' });
    await client.close();
    await waitFor(() => s.stdout().includes('disconnected'));
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
    expect(s.stdout()).toMatch(/client 127\.0\.0\.1:\d+ connected/);
    expect(s.stdout()).toMatch(/client 127\.0\.0\.1:\d+ disconnected: 1 dict, 0 files/);
    // Standard output is a pipe (journald, a log file): the item is noticed, its content not shown.
    expect(s.stdout()).toMatch(/saved dict cli-1 from/);
    expect(s.stdout()).not.toContain('"hello"');
    expect(s.stdout()).toContain('SIGTERM: shutting down');
    const logs = s
      .stderr()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['listening', 'dict stored', 'stopped']));

    const list = await runToEnd(['list', '--data-dir', data]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/cli-1\s+\S+\s+ok\s+items\/\d{4}-\d{2}-\d{2}\/\d{6}-[0-9a-f]{8}-\d+-cli-1-dict\.json/);
    expect(list.stdout).toContain('1 item');
    const json = await runToEnd(['list', '--json'], { PROJ_SERVER_DATA_DIR: data });
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ id: 'cli-1', kind: 'dict', format: 'json' });
  });

  it('a second signal during the grace period stops at once; the next start finds nothing partial', async () => {
    const data = join(tmp.path, 'data');
    const s = await run(['--port', '0', '--data-dir', data, '--grace', '60s']);
    // Without `resume` (the library asks for it by default), a put's bytes go to tmp/*.part, which this checks.
    const client = await connect({ port: s.port, resume: false });
    const stored = await client.sendDict({ kept: true }, { id: 'before-stop' });
    // A file put left hanging: the grace period would wait a minute for it.
    void client
      .sendStream(
        (async function* () {
          yield Buffer.alloc(1024, 1);
          await new Promise(() => {});
        })(),
        { id: 'hanging', name: 'h.bin', size: 4096 },
      )
      .catch(() => undefined);
    await waitFor(async () => (await readdir(join(data, 'tmp'))).some((n) => n.endsWith('.part')));
    s.child.kill('SIGTERM');
    await waitFor(() => s.stdout().includes('SIGTERM: shutting down'));
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(143);
    expect(s.stderr()).toContain('SIGTERM again: stopping now');
    client.destroy();

    const again = await run(['--port', '0', '--data-dir', data]);
    try {
      expect(await readdir(join(data, 'tmp'))).toEqual([]);
      expect((await readdir(join(data, 'receipts'))).sort()).toEqual(['before-stop.json']);
      const c = await connect({ port: again.port });
      expect(await c.sendDict({ kept: true }, { id: 'before-stop' })).toMatchObject({
        duplicate: true,
        path: stored.path,
      });
      await c.close();
    } finally {
      again.child.kill('SIGTERM');
      await again.exit;
    }
  });

  it('takes flags over environment variables over the config file over defaults', async () => {
    const config = join(tmp.path, 'server.json');
    await writeFile(
      config,
      JSON.stringify({ dataDir: 'from-config', maxDictDepth: 5, idleTimeout: '45s', maxFileBytes: '2MiB' }),
    );
    const env = { PROJ_SERVER_CONFIG: config, PROJ_SERVER_MAX_DICT_DEPTH: '6', PROJ_SERVER_PORT: '0' };
    const welcome = async (
      args: string[],
      extraEnv: NodeJS.ProcessEnv,
    ): Promise<{ depth: number; idle: number; file: number }> => {
      const s = await run(args, extraEnv);
      try {
        const client = await connect({ port: s.port });
        const { limits } = client.welcome;
        await client.close();
        expect(s.stdout()).toContain(`data in ${join(tmp.path, 'from-config')}`); // relative to the config file
        return { depth: limits.maxDictDepth, idle: limits.idleTimeoutMs, file: limits.maxFileBytes };
      } finally {
        s.child.kill('SIGTERM');
        await s.exit;
      }
    };
    expect(await welcome(['--max-dict-depth', '7'], env)).toEqual({ depth: 7, idle: 45_000, file: 2 * 1024 * 1024 });
    expect(await welcome([], env)).toEqual({ depth: 6, idle: 45_000, file: 2 * 1024 * 1024 });
    expect(await welcome(['--port', '0'], { PROJ_SERVER_CONFIG: config })).toEqual({
      depth: 5,
      idle: 45_000,
      file: 2 * 1024 * 1024,
    });
  });

  it.each([
    [['--port', 'seventy'], /^server: error: --port must be a port number from 0 to 65535, found "seventy"/],
    [['--output', 'printer'], /^server: error: --output must be screen, file or both, found "printer"/],
    [['--max-file-bytes', '3 bananas'], /^server: error: --max-file-bytes must be a size like/],
    [['--bogus'], /unknown option/],
    [['--tls-cert', '/x.pem', '--port', '0'], /TLS needs both/],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const r = await runToEnd([...args, '--data-dir', join(tmp.path, 'd')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('exits 2 on a config file with an unknown key, 1 when the port is taken', async () => {
    const config = join(tmp.path, 'bad.json');
    await writeFile(config, JSON.stringify({ prot: 1 }));
    const bad = await runToEnd(['--config', config]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown key "prot"');

    const s = await run(['--port', '0', '--data-dir', join(tmp.path, 'a')]);
    try {
      const taken = await runToEnd(['--port', String(s.port), '--data-dir', join(tmp.path, 'b')]);
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain('EADDRINUSE');
    } finally {
      s.child.kill('SIGTERM');
      await s.exit;
    }
  });

  it('asks for its settings in a terminal, and the answers take effect', async () => {
    const data = join(tmp.path, 'asked-data');
    const pty = new Pty(process.execPath, [MAIN, '--log-level', 'warn'], { cwd: tmp.path, env: { INIT_CWD: '' } });
    try {
      await pty.expect('Address to listen on');
      pty.write('127.0.0.1\r');
      await pty.expect('Port');
      pty.write('0\r');
      await pty.expect('Directory to keep received data in');
      pty.write(`${data}\r`);
      await pty.expect('What to print for each item');
      pty.write('\u001b[B'); // down: screen
      pty.write('\r');
      await pty.expect('Decrypt age-encrypted files');
      pty.write('n\r');
      const line = await pty.expect(/listening on 127\.0\.0\.1:\d+; data in \S+/);
      expect(line).toContain(`data in ${data}`);
      const port = Number(/:(\d+);/.exec(line)?.[1]);
      const client = await connect({ port });
      expect(client.welcome.encryption.canDecrypt).toBe(false);
      await client.sendDict({ shown: 'on screen' });
      await client.close();
      await pty.expect('"shown": "on screen"');
      expect(pty.screen).not.toMatch(/saved dict/);
    } finally {
      await pty.stop();
    }
  });

  it('in a terminal, asks only for what no flag set', async () => {
    const pty = new Pty(
      process.execPath,
      [
        MAIN,
        '--log-level',
        'warn',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--data-dir',
        join(tmp.path, 'x'),
        '--output',
        'file',
      ],
      {
        cwd: tmp.path,
        env: { INIT_CWD: '' },
      },
    );
    try {
      await pty.expect('Decrypt age-encrypted files');
      pty.write('\r');
      await pty.expect(/listening on 127\.0\.0\.1:\d+/);
      expect(pty.screen).not.toContain('Address to listen on');
    } finally {
      await pty.stop();
    }
  });

  it('with --ask, asks the operator in the terminal for each item', async () => {
    const args = [
      MAIN,
      '--log-level',
      'warn',
      '--port',
      '0',
      '--data-dir',
      join(tmp.path, 'ask'),
      '--output',
      'file',
      '--no-decrypt',
      '--host',
      '127.0.0.1',
      '--ask',
    ];
    const pty = new Pty(process.execPath, args, { cwd: tmp.path, env: { INIT_CWD: '' } });
    try {
      const line = await pty.expect(/listening on 127\.0\.0\.1:\d+/);
      const port = Number(/:(\d+)$/.exec(line)?.[1]);
      const client = await connect({ port });
      const accepted = client.sendDict({ please: 'accept' }, { id: 'ask-1' });
      await pty.expect('Accept dictionary (json');
      pty.write('y\r');
      await expect(accepted).resolves.toMatchObject({ id: 'ask-1', duplicate: false });
      const rejected = client.sendStream(chunks(Buffer.from('no')), { id: 'ask-2', name: 'n.txt' });
      await pty.expect('Accept file "n.txt"');
      pty.write('n\r');
      await expect(rejected).rejects.toMatchObject({ code: 'ERR_REJECTED' });
      await client.close();
    } finally {
      await pty.stop();
    }
  });
});

describe('log level', () => {
  it('logs warnings only when stderr is a terminal, info otherwise', () => {
    expect(defaultLogLevel(true)).toBe('warn');
    expect(defaultLogLevel(false)).toBe('info');
  });
});
