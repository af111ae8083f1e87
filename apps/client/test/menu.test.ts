/**
 * The interactive session with scripted answers, against a real server in this process: connecting (and
 * retrying when nobody listens), sending what was built, receipts, Ctrl-C, and a dropped connection.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decryptFile, readIdentityFile } from '@proj/crypto';
import { decodeDict } from '@proj/protocol/dict';
import { listFiles, makeTempDir, sha256File } from '@proj/test-utils';
import { ExitCode } from '../src/errors';
import { runInteractive } from '../src/interactive/menu';
import { DEFAULT_RETRY } from '../src/link';
import { CANCEL, ScriptedPrompter, type Step } from './helpers/scripted-prompter';
import { startTestServer, type TestServer } from './helpers/harness';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
  await server.removeDir();
});

function session(p: ScriptedPrompter, port = server.port) {
  return runInteractive({
    prompter: p,
    ui: p,
    defaults: { host: '127.0.0.1', port },
    policy: { ...DEFAULT_RETRY, baseDelayMs: 10 },
    env: {},
    tuning: { scryptWorkFactor: 10 },
  });
}

const connect: Step[] = [
  ['connect.host', ''],
  ['connect.port', ''],
];

async function items(): Promise<string[]> {
  return (await listFiles(join(server.dataDir, 'items'))).map((f) => join(server.dataDir, 'items', f));
}

/** Every `Receipt` block the session showed, as { field: value }. */
function receipts(p: ScriptedPrompter): Record<string, string>[] {
  return p.said
    .filter((s) => s.startsWith('Receipt'))
    .map((block) =>
      Object.fromEntries(
        block
          .split('\n')
          .slice(1)
          .map((line) => [line.slice(2, 11).trim(), line.slice(12)]),
      ),
    );
}

it('builds a nested dictionary, sends it in each format, and shows receipts that match what was stored', async () => {
  const steps: Step[] = [...connect];
  for (const format of ['xml', 'protobuf', 'json']) {
    steps.push(
      ['menu', 'dict'],
      ['dict.action', 'add'],
      ['dict.key', 'user'],
      ['value.kind', 'dictionary'],
      ['dict.nested.action', 'add'],
      ['dict.key', 'name'],
      ['value.kind', 'text'],
      ['value.text', 'Grace'],
      ['dict.nested.action', 'add'],
      ['dict.key', 'langs'],
      ['value.kind', 'list'],
      ['list.action', 'add'],
      ['value.kind', 'text'],
      ['value.text', 'COBOL'],
      ['list.action', 'done'],
      ['dict.nested.action', 'done'],
      ['dict.action', 'add'],
      ['dict.key', 'year'],
      ['value.kind', 'number'],
      ['value.number', '1959'],
      ['dict.action', 'done'],
      ['dict.format', format],
    );
  }
  steps.push(['menu', 'disconnect']);
  const p = new ScriptedPrompter(steps);
  expect(await session(p)).toBe(ExitCode.Ok);
  p.assertDone();
  expect(p.warned).toEqual([]);
  const shown = receipts(p);
  expect(shown).toHaveLength(3);
  for (const [i, format] of ['xml', 'protobuf', 'json'].entries()) {
    const r = shown[i] as Record<string, string>;
    const path = join(server.dataDir, (r['stored at'] ?? '').split('  ')[0] ?? '');
    expect(await sha256File(path)).toBe(r.sha256);
    expect(r.check).toBe('size and checksum match what was sent');
    expect(decodeDict(await readFile(path), format as 'xml' | 'protobuf' | 'json')).toEqual({
      user: { name: 'Grace', langs: ['COBOL'] },
      year: 1959,
    });
  }
});

it("creates a text file, encrypts it to the server's key, sends it; then a passphrase one; then a file from disk", async () => {
  const tmp = await makeTempDir();
  const onDisk = join(tmp.path, 'disk.txt');
  await writeFile(onDisk, 'from disk\n');
  const p = new ScriptedPrompter([
    ...connect,
    ['menu', 'file'],
    ['file.source', 'type'],
    ['file.name', 'hello.txt'],
    ['file.lines', ['hello', 'world']],
    ['file.review', 'send'],
    ['file.encrypt', 'server'],
    ['menu', 'file'],
    ['file.source', 'type'],
    ['file.name', 'pp.txt'],
    ['file.lines', ['by passphrase']],
    ['file.review', 'send'],
    ['file.encrypt', 'passphrase'],
    ['passphrase', 'pw'],
    ['passphrase.again', 'pw'],
    ['menu', 'file'],
    ['file.source', 'disk'],
    ['file.path', join(tmp.path, 'nope.txt')],
    ['file.path', onDisk],
    ['file.encrypt', 'none'],
    ['menu', 'disconnect'],
  ]);
  try {
    expect(await session(p)).toBe(ExitCode.Ok);
    p.assertDone();
    expect(p.warned).toEqual([expect.stringMatching(/There is no file at .*nope\.txt/)]);
    const [a, b, c] = receipts(p).map((r) => join(server.dataDir, (r['stored at'] ?? '').split('  ')[0] ?? ''));
    expect(a).toMatch(/hello\.txt\.age$/);
    const identities = await readIdentityFile(join(server.dataDir, 'identity.txt'));
    await decryptFile(a as string, join(tmp.path, 'a'), { identities });
    expect(await readFile(join(tmp.path, 'a'), 'utf8')).toBe('hello\nworld\n');
    await decryptFile(b as string, join(tmp.path, 'b'), { passphrase: 'pw' });
    expect(await readFile(join(tmp.path, 'b'), 'utf8')).toBe('by passphrase\n');
    expect(await readFile(c as string, 'utf8')).toBe('from disk\n');
    expect(await items()).toHaveLength(3);
  } finally {
    await tmp.remove();
  }
});

it('says clearly when nobody listens, and connects on the second try', async () => {
  const p = new ScriptedPrompter([
    ['connect.host', ''],
    ['connect.port', '1'],
    ['connect.retry', 'change'],
    ['connect.host', ''],
    ['connect.port', 'abc'],
    ['connect.port', String(server.port)],
    ['menu', 'disconnect'],
  ]);
  expect(await session(p, 1)).toBe(ExitCode.Ok);
  p.assertDone();
  expect(p.warned[0]).toMatch(/Nobody is listening at 127\.0\.0\.1:1/);
  expect(p.warned[1]).toMatch(/port number/);
  expect(p.said.some((s) => s.startsWith(`Connected to 127.0.0.1:${server.port}`))).toBe(true);
});

it('gives up with exit code 3, and says so, when the person quits instead of retrying', async () => {
  const p = new ScriptedPrompter([
    ['connect.host', ''],
    ['connect.port', '1'],
    ['connect.retry', 'again'],
    ['connect.retry', 'quit'],
  ]);
  expect(await session(p, 1)).toBe(ExitCode.Connection);
  p.assertDone();
  expect(p.warned).toHaveLength(2);
  expect(p.said.at(-1)).toBe('Not connected: quitting with exit status 3. Nothing was sent.');
});

it('asks for the token when the server requires one', async () => {
  const guarded = await startTestServer({ token: 'tok' });
  try {
    const p = new ScriptedPrompter([
      ['connect.host', ''],
      ['connect.port', ''],
      ['connect.token', 'wrong'],
      ['connect.token', 'tok'],
      ['menu', 'ping'],
      ['menu', 'disconnect'],
    ]);
    expect(await session(p, guarded.port)).toBe(ExitCode.Ok);
    expect(p.warned).toEqual(['The server requires a token.', 'The server refused the token.']);
    expect(p.said.some((s) => /answered in/.test(s))).toBe(true);
  } finally {
    await guarded.close();
    await guarded.removeDir();
  }
});

it('leaves cleanly on Ctrl-C at a prompt: exit code 130, nothing half-sent', async () => {
  const p = new ScriptedPrompter([...connect, ['menu', 'dict'], ['dict.action', 'add'], ['dict.key', CANCEL]]);
  expect(await session(p)).toBe(ExitCode.Interrupted);
  expect(p.said.at(-1)).toMatch(/Interrupted: connection closed/);
  expect(await items()).toEqual([]);
});

it('reports a dropped connection and reconnects when asked', async () => {
  const port = server.port;
  const dataDir = server.dataDir;
  let restarted: TestServer | undefined;
  const steps: Step[] = [
    ['menu', 'dict'],
    ['dict.action', 'add'],
    ['dict.key', 'after'],
    ['value.kind', 'true'],
    ['dict.action', 'done'],
    ['dict.format', 'json'],
    ['reconnect', true],
    ['menu', 'disconnect'],
  ];
  // While the session waits at its second menu, the server stops (dropping the connection) and a new one
  // starts on the same port and data directory.
  const q = new ScriptedPrompter([...connect, ['menu', 'ping'], ...steps]);
  const qSelect = q.select.bind(q);
  let menus = 0;
  q.select = async (question) => {
    if (question.name === 'menu' && ++menus === 2) {
      await server.close(0);
      restarted = await startTestServer({ dataDir, port });
    }
    return qSelect(question);
  };
  try {
    expect(await session(q)).toBe(ExitCode.Ok);
    q.assertDone();
    expect(q.warned).toEqual([`The connection to 127.0.0.1:${port} was lost.`]);
    expect(q.said).toContain(`Reconnected to 127.0.0.1:${port}.`);
    const [r] = receipts(q);
    expect(JSON.parse(await readFile(join(dataDir, (r?.['stored at'] ?? '').split('  ')[0] ?? ''), 'utf8'))).toEqual({
      after: true,
    });
  } finally {
    await restarted?.close();
    server = Object.assign(restarted ?? server, { removeDir: server.removeDir });
  }
});
