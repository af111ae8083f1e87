/**
 * Waiting for the operator (docs/PROTOCOL.md §4, "Notices"; issue #17 item 9), through both real programs: the
 * server runs with --ask in a pseudo-terminal, the client as a process with an answer timeout (1 s) shorter than
 * the operator's time. The client says it waits for the operator, keeps waiting past its own timeout, and the
 * operator is asked once.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir, Pty } from '@proj/test-utils';
import { MAIN } from './helpers/harness';

const SERVER_MAIN = join(__dirname, '..', '..', 'server', 'dist', 'main.js');

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  tmp = await makeTempDir('client-notice-');
});
afterAll(async () => {
  await tmp.remove();
});

/** The client as a process; its standard error as it comes. */
function startClient(args: readonly string[]): { stderr: () => string; stdout: () => string; code: Promise<number> } {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, PROJ_HOST: '', PROJ_PORT: '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const code = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  return { stderr: () => err, stdout: () => out, code };
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('the client shows the pending notice and waits past its answer timeout for the operator, who is asked once', async () => {
  const pty = new Pty(
    process.execPath,
    [
      SERVER_MAIN,
      '--log-level',
      'warn',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      join(tmp.path, 'data'),
      '--output',
      'file',
      '--no-decrypt',
      '--ask',
      '--approval-timeout',
      '8s',
    ],
    { cwd: tmp.path, env: { INIT_CWD: '' } },
  );
  try {
    const line = await pty.expect(/listening on 127\.0\.0\.1:\d+/);
    const port = /:(\d+)/.exec(line.slice(line.indexOf('127.0.0.1')))?.[1] as string;
    const client = startClient(['send-dict', '--port', port, '--timeout', '1', '--data', '{"a":1}', '--id', 'wait-1']);
    await until(() => client.stderr().includes('waiting for the operator to approve…'), 'the notice');
    expect(client.stderr()).toContain('waiting for the operator to approve… (up to 8 s)');
    await pty.expect('Accept dictionary (json');
    // Twice the client's own answer timeout: without the notice it would have given up and put again.
    await new Promise((r) => setTimeout(r, 2000));
    pty.write('y\r');
    expect(await client.code).toBe(0);
    expect(client.stdout()).toContain('wait-1');
    expect(client.stderr()).not.toContain('retry');
    // enquirer draws the question once, and again with the answer (✔): one question.
    expect(pty.screen.split('? Accept dictionary').length - 1).toBe(1);
    expect(pty.screen.split('saved dict wait-1').length - 1).toBe(1);
  } finally {
    await pty.stop();
  }
}, 30_000);
