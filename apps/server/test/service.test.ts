/**
 * Running the server as a service (issue #17 item 12; docs/SERVER.md §12), through the real program: Prometheus
 * metrics on their own address (off by default), the health check (`server health` and /healthz), readable logs
 * at a terminal and JSON otherwise, the systemd unit (`systemd-analyze verify`, and its command and settings run),
 * and the Docker image (built and served where a Docker engine answers; skipped with the reason where none does).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { connect } from '@proj/protocol';
import { makeTempDir, Pty } from '@proj/test-utils';
import { buildServer, MAIN_JS, spawnServer } from './reliability/harness';

const REPO = resolve(__dirname, '..', '..', '..');
const UNIT = join(REPO, 'deploy', 'proj-server.service');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn(process.execPath, [MAIN_JS, ...args], {
    env: { ...process.env, INIT_CWD: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout: out, stderr: err };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** The value of one sample line of Prometheus text, e.g. `proj_items_stored_total{kind="dict"}`. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  buildServer();
  tmp = await makeTempDir('server-service-');
});
afterAll(async () => {
  await tmp?.remove();
});

test('metrics: off by default; with --metrics, items, bytes, refusals by code, connections and commit latency', async () => {
  const plain = await spawnServer(join(tmp.path, 'plain'), ['--log-level', 'warn']);
  expect(plain.stdout()).not.toContain('metrics on');
  await plain.kill('SIGTERM');

  const server = await spawnServer(join(tmp.path, 'metrics'), ['--log-level', 'warn', '--metrics', '127.0.0.1:0']);
  try {
    // Printed right after the line spawnServer waits for: it may come in a later chunk.
    const metricsLine = /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/;
    for (let i = 0; i < 200 && !metricsLine.test(server.stdout()); i++) await new Promise((r) => setTimeout(r, 50));
    const m = metricsLine.exec(server.stdout());
    expect(m).not.toBeNull();
    const base = (m as RegExpExecArray)[1] as string;
    const client = await connect({ port: server.port });
    await client.sendDict({ a: 1 }, { id: 'm-1' });
    await client.sendDict({ a: 1 }, { id: 'm-1' }); // a duplicate: not counted again
    await expect(client.sendDictBytes(Buffer.from('{not json'), { format: 'json', id: 'm-2' })).rejects.toMatchObject({
      code: 'ERR_DECODE',
    });
    const { status, body } = await get(`${base}/metrics`);
    expect(status).toBe(200);
    expect(sample(body, 'proj_items_stored_total{kind="dict"}')).toBe(1);
    expect(sample(body, 'proj_items_stored_total{kind="file"}')).toBe(0);
    expect(sample(body, 'proj_stored_bytes_total{kind="dict"}')).toBe(7);
    expect(sample(body, 'proj_refusals_total{code="ERR_DECODE"}')).toBe(1);
    expect(sample(body, 'proj_connections')).toBe(1);
    expect(sample(body, 'proj_connections_total')).toBe(1);
    expect(sample(body, 'proj_commit_seconds_count{kind="dict"}')).toBe(1);
    expect(body).toContain('proj_server_process_resident_memory_bytes');
    await client.close();
    expect(await get(`${base}/healthz`)).toEqual({ status: 200, body: 'ok\n' });
    expect((await get(`${base}/other`)).status).toBe(404);
  } finally {
    await server.kill('SIGTERM');
  }
  const used = await run(['--port', '0', '--data-dir', join(tmp.path, 'bad'), '--no-prompt', '--metrics', 'nowhere']);
  expect(used.code).toBe(2);
  expect(used.stderr).toContain('--metrics: expected HOST:PORT');
}, 60_000);

test('health: ok and exit 0 against a running server (settings from the environment too), exit 1 with the code otherwise', async () => {
  const tokenFile = join(tmp.path, 'token');
  await writeFile(tokenFile, 'service-token\n', { mode: 0o600 });
  const server = await spawnServer(join(tmp.path, 'health'), ['--log-level', 'warn', '--token-file', tokenFile]);
  try {
    const ok = await run(['health', '--port', String(server.port), '--token-file', tokenFile]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok: proj-server\/\S+ \(server [0-9a-f]{8}-\d+\) at 127\.0\.0\.1:\d+, \d+ ms\n$/);
    const fromEnv = await run(['health'], {
      PROJ_SERVER_PORT: String(server.port),
      PROJ_SERVER_HOST: '0.0.0.0',
      PROJ_SERVER_TOKEN_FILE: tokenFile,
    });
    expect(fromEnv.code).toBe(0);
    const noToken = await run(['health', '--port', String(server.port)]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('(ERR_AUTH)');
  } finally {
    await server.kill('SIGTERM');
  }
  const down = await run(['health', '--port', String(server.port)]);
  expect(down.code).toBe(1);
  expect(down.stderr).toContain('(ERR_CONNECT)');
}, 60_000);

test('logs: pino-pretty lines when standard error is a terminal, JSON lines when it is not', async () => {
  const piped = await spawnServer(join(tmp.path, 'json-logs'), ['--log-level', 'info']);
  await piped.kill('SIGTERM');
  const first = piped.stderr().split('\n')[0] as string;
  expect(JSON.parse(first)).toMatchObject({ level: 30, name: 'server' });

  const args = [MAIN_JS, '--port', '0', '--host', '127.0.0.1', '--data-dir', join(tmp.path, 'pretty-logs')];
  const pty = new Pty(process.execPath, [...args, '--no-prompt', '--output', 'file', '--log-level', 'info'], {
    cwd: tmp.path,
    env: { INIT_CWD: '', NO_COLOR: '1' },
  });
  try {
    await pty.expect(/INFO: listening/);
    await pty.expect(/^\s+dataDir: "/m);
    expect(pty.screen).not.toContain('{"level"');
  } finally {
    await pty.stop();
  }
}, 60_000);

describe('the systemd unit', () => {
  test('passes systemd-analyze verify', () => {
    const which = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (which.error) {
      console.log(`skipped: systemd-analyze is not installed (${which.error.message})`);
      return;
    }
    // The unit names /usr/bin/node and /opt/proj: verify checks that the command exists, so it runs with ours.
    const unit = readFileSync(UNIT, 'utf8').replace(
      '/usr/bin/node /opt/proj/apps/server/dist/main.js',
      `${process.execPath} ${MAIN_JS}`,
    );
    const copy = join(tmp.path, 'proj-server.service');
    writeFileSync(copy, unit);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    // It does find mistakes: an unknown key is a warning on stderr.
    writeFileSync(copy, unit.replace('Type=simple', 'Tpye=simple'));
    const bad = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
    expect(bad.stderr).toContain("Unknown key 'Tpye'");
  });

  test("its command runs with its settings: the server starts from the unit's environment and answers health", async () => {
    const unit = readFileSync(UNIT, 'utf8');
    const env: Record<string, string> = {};
    for (const m of unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)) env[m[1] as string] = m[2] as string;
    expect(env).toMatchObject({ PROJ_SERVER_DATA_DIR: '/var/lib/proj-server', PROJ_SERVER_OUTPUT: 'file' });
    const exec = /^ExecStart=\/usr\/bin\/node \/opt\/proj\/apps\/server\/dist\/main\.js (.*)$/m.exec(unit);
    expect(exec).not.toBeNull();
    const args = ((exec as RegExpExecArray)[1] as string).split(' ');
    // Only the state directory and the port differ here: a temporary one, and a free port.
    const data = join(tmp.path, 'unit-data');
    const child = spawn(process.execPath, [MAIN_JS, ...args], {
      env: { ...process.env, INIT_CWD: '', ...env, PROJ_SERVER_DATA_DIR: data, PROJ_SERVER_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    try {
      const deadline = Date.now() + 20_000;
      while (!/listening on 127\.0\.0\.1:(\d+)/.test(out) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const port = /listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      expect(port).toBeDefined();
      expect(out).toContain(`data in ${data}`);
      const health = await run(['health', '--port', port as string]);
      expect(health.code).toBe(0);
      // journald is not a terminal: JSON lines at info.
      expect(JSON.parse(err.split('\n')[0] as string)).toMatchObject({ level: 30 });
    } finally {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    }
  }, 60_000);
});

test('the Docker image builds, runs as a non-root user with /data on a volume, and reports healthy', async () => {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' });
  if (info.error || info.status !== 0) {
    console.log(
      `skipped: no Docker engine answers here (${(info.error?.message ?? info.stderr).trim().split('\n')[0]}); the Dockerfile is built and run where one does`,
    );
    return;
  }
  const tag = `proj-server-test:${process.pid}`;
  const name = `proj-server-test-${process.pid}`;
  const build = spawnSync('docker', ['build', '-t', tag, REPO], { encoding: 'utf8', timeout: 900_000 });
  expect({ status: build.status, stderr: build.status === 0 ? '' : build.stderr }).toEqual({ status: 0, stderr: '' });
  try {
    const up = spawnSync('docker', ['run', '-d', '--name', name, '-p', '127.0.0.1::5050', '-v', `${name}:/data`, tag], {
      encoding: 'utf8',
    });
    expect(up.status).toBe(0);
    const user = spawnSync('docker', ['exec', name, 'id', '-u'], { encoding: 'utf8' });
    expect(user.stdout.trim()).not.toBe('0');
    const deadline = Date.now() + 120_000;
    let health = '';
    while (health !== 'healthy' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2000));
      health = spawnSync('docker', ['inspect', '-f', '{{.State.Health.Status}}', name], {
        encoding: 'utf8',
      }).stdout.trim();
    }
    expect(health).toBe('healthy');
    const port = spawnSync('docker', ['port', name, '5050/tcp'], { encoding: 'utf8' }).stdout.trim().split(':').pop();
    const client = await connect({ port: Number(port) });
    const receipt = await client.sendDict({ in: 'docker' }, { id: 'docker-1' });
    await client.close();
    const listed = spawnSync('docker', ['exec', name, 'node', '/app/dist/main.js', 'list', '--json'], {
      encoding: 'utf8',
    });
    expect(JSON.parse(listed.stdout.trim())).toMatchObject({ id: 'docker-1', path: receipt.path });
  } finally {
    spawnSync('docker', ['rm', '-f', name]);
    spawnSync('docker', ['volume', 'rm', name]);
    spawnSync('docker', ['rmi', tag]);
  }
}, 1_200_000);
