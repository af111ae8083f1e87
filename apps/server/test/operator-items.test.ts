/**
 * The operator's item commands through the real program (issue #17 item 11; docs/SERVER.md §4): `list` with its
 * filters, name column and missing items; `show`; `cat` (and `--decrypt`); `rm` and `prune` while the server runs,
 * and a removal that a journal replay after a crash does not undo; the default data directory.
 */
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encryptFile } from '@proj/crypto';
import { connect, type Client } from '@proj/protocol';
import { makeTempDir, sha256Hex } from '@proj/test-utils';
import {
  buildServer,
  MAIN_JS,
  type ProgramRun,
  runProgram,
  spawnServer,
  type ChildServer,
} from './reliability/harness';

type Run = ProgramRun;
const run = runProgram;

const text = (r: Run): string => r.stdout.toString('utf8');

async function fileAppears(path: string): Promise<void> {
  for (let i = 0; i < 500 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 10));
  if (!existsSync(path)) throw new Error(`${path} did not appear`);
}

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let dataDir: string;
let server: ChildServer;
let client: Client;
const plain = Buffer.from('the operator reads this\n');

beforeAll(async () => {
  buildServer();
  tmp = await makeTempDir('server-items-');
  dataDir = join(tmp.path, 'data');
  server = await spawnServer(dataDir, ['--log-level', 'warn']);
  client = await connect({ port: server.port });
  await client.sendDict({ who: 'Ada', langs: ['en', 'fr'] }, { id: 'dict-json', format: 'json' });
  await client.sendDict({ who: 'Grace' }, { id: 'dict-xml', format: 'xml' });
  await writeFile(join(tmp.path, 'notes.txt'), 'plain notes\n');
  await client.sendFile(join(tmp.path, 'notes.txt'), { id: 'file-notes' });
  await writeFile(join(tmp.path, 'secret.txt'), plain);
  await encryptFile(join(tmp.path, 'secret.txt'), join(tmp.path, 'secret.txt.age'), {
    recipients: [client.recipient as string],
  });
  await client.sendFile(join(tmp.path, 'secret.txt.age'), { id: 'file-secret', name: 'secret.txt', encryption: 'age' });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await server?.kill('SIGTERM');
  await tmp?.remove();
});

describe('list', () => {
  test('a table with a name column, every item ok', async () => {
    const r = await run(['list', '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    const lines = text(r).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RECEIVED \(UTC\)\s+KIND\s+SIZE\s+NAME\s+ID\s+SENDER\s+STATE\s+PATH$/);
    expect(lines.slice(1, 5).map((l) => l.split(/\s{2,}/).slice(1, 7))).toEqual([
      ['dict/json', expect.any(String), 'dict.json', 'dict-json', expect.any(String), 'ok'],
      ['dict/xml', expect.any(String), 'dict.xml', 'dict-xml', expect.any(String), 'ok'],
      ['file', '12 B', 'notes.txt', 'file-notes', expect.any(String), 'ok'],
      ['file/age', expect.any(String), 'secret.txt', 'file-secret', expect.any(String), 'ok'],
    ]);
    expect(lines.at(-1)).toBe('4 items');
  });

  test('filters: --kind, --format, a name or id, --since', async () => {
    const ids = async (...args: string[]): Promise<string[]> => {
      const r = await run(['list', '--data-dir', dataDir, '--json', ...args]);
      expect(r.code).toBe(0);
      return text(r)
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { id: string }).id);
    };
    expect(await ids('--kind', 'file')).toEqual(['file-notes', 'file-secret']);
    expect(await ids('--format', 'xml')).toEqual(['dict-xml']);
    expect(await ids('NOTES')).toEqual(['file-notes']);
    expect(await ids('dict-')).toEqual(['dict-json', 'dict-xml']);
    expect(await ids('--since', '1h')).toHaveLength(4);
    expect(await ids('--since', '2999-01-01')).toEqual([]);
    const none = await run(['list', '--data-dir', dataDir, '--since', '2999-01-01']);
    expect(text(none)).toBe(`no item matches in ${dataDir}\n`);
    const bad = await run(['list', '--data-dir', dataDir, '--kind', 'folder']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--kind: expected dict or file/);
  });
});

describe('show and cat', () => {
  test('show: the receipt and a dictionary as JSON', async () => {
    const r = await run(['show', 'dict-json', '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    expect(text(r)).toMatch(/^id:\s+dict-json$/m);
    expect(text(r)).toMatch(/^kind:\s+dict\/json$/m);
    expect(text(r)).toMatch(/^state:\s+ok$/m);
    expect(text(r)).toContain('"who": "Ada"');
  });

  test('show: an age file only with --decrypt, then its plaintext', async () => {
    const closed = await run(['show', 'file-secret', '--data-dir', dataDir]);
    expect(text(closed)).toContain('age-encrypted; --decrypt shows it');
    expect(text(closed)).not.toContain('the operator reads this');
    const open = await run(['show', 'file-secret', '--data-dir', dataDir, '--decrypt']);
    expect(open.code).toBe(0);
    expect(text(open)).toContain('the operator reads this');
  });

  test('cat: the bytes as stored, the plaintext with --decrypt, into a new file with --out', async () => {
    const stored = await run(['cat', 'file-secret', '--data-dir', dataDir]);
    expect(stored.code).toBe(0);
    expect(sha256Hex(stored.stdout)).toBe(sha256Hex(await readFile(join(tmp.path, 'secret.txt.age'))));
    const opened = await run(['cat', 'file-secret', '--data-dir', dataDir, '--decrypt']);
    expect(opened.stdout.equals(plain)).toBe(true);
    const out = join(tmp.path, 'out.txt');
    expect((await run(['cat', 'file-notes', '--data-dir', dataDir, '--out', out])).code).toBe(0);
    expect(await readFile(out, 'utf8')).toBe('plain notes\n');
    const again = await run(['cat', 'file-notes', '--data-dir', dataDir, '--out', out]);
    expect(again.code).toBe(1); // never over a file that is there
    const unknown = await run(['cat', 'no-such-id', '--data-dir', dataDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('(ERR_NOT_FOUND)');
  });

  test('--decrypt without an identity file says so', async () => {
    const r = await run([
      'cat',
      'file-secret',
      '--data-dir',
      dataDir,
      '--decrypt',
      '--identity',
      join(tmp.path, 'none'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(ERR_NO_IDENTITY)');
  });
});

describe('missing, rm and prune while the server runs', () => {
  test('an item deleted by hand is listed as missing; rm forgets it', async () => {
    const receipt = await client.sendDict({ gone: true }, { id: 'by-hand' });
    // A server alone on its directory writes a dictionary's file just after the receipt (docs/SERVER.md §5): a hand
    // that deletes it comes later than that.
    await fileAppears(join(dataDir, receipt.path));
    unlinkSync(join(dataDir, receipt.path));
    const listed = await run(['list', '--data-dir', dataDir, '--json', 'by-hand']);
    expect(JSON.parse(text(listed))).toMatchObject({ id: 'by-hand', missing: true });
    const table = await run(['list', '--data-dir', dataDir, 'by-hand']);
    expect(text(table)).toMatch(/by-hand\s+\S+\s+missing/);
    expect(text(table)).toContain('1 missing');
    expect((await run(['rm', 'by-hand', '--data-dir', dataDir])).code).toBe(0);
    expect(existsSync(join(dataDir, 'receipts', 'by-hand.json'))).toBe(false);
  });

  test('rm removes item and receipt; the running server then stores the id anew', async () => {
    const first = await client.sendDict({ version: 1 }, { id: 'to-remove' });
    const r = await run(['rm', 'to-remove', '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    expect(text(r)).toContain(`removed to-remove (${first.path})`);
    expect(existsSync(join(dataDir, first.path))).toBe(false);
    expect(existsSync(join(dataDir, 'receipts', 'to-remove.json'))).toBe(false);
    // The running server's journal still holds the item's record: it is removed all the same, not "missing".
    expect(readdirSync(join(dataDir, 'journal')).length).toBeGreaterThan(0);
    expect(text(await run(['list', '--data-dir', dataDir, '--json', 'to-remove']))).toBe('');
    expect((await run(['show', 'to-remove', '--data-dir', dataDir])).code).toBe(1);
    const again = await client.sendDict({ version: 2 }, { id: 'to-remove' });
    expect(again.duplicate).toBe(false);
    expect(again.sha256).not.toBe(first.sha256);
    const unknown = await run(['rm', 'to-remove', 'nope', '--data-dir', dataDir]);
    expect(unknown.code).toBe(1); // nothing removed: every id is looked up first
    expect(existsSync(join(dataDir, again.path))).toBe(true);
  });

  test('prune --older-than removes what is older, --dry-run only says so', async () => {
    expect((await run(['prune', '--data-dir', dataDir])).code).toBe(2);
    const dry = await run(['prune', '--data-dir', dataDir, '--older-than', '1s', '--kind', 'dict', '--dry-run', 'xml']);
    expect(text(dry)).toMatch(/^would remove dict-xml /m);
    expect(text(dry)).toMatch(/would remove 1 item,/);
    expect(existsSync(join(dataDir, 'receipts', 'dict-xml.json'))).toBe(true);
    await new Promise((r) => setTimeout(r, 1100));
    const pruned = await run(['prune', '--data-dir', dataDir, '--older-than', '1s', '--kind', 'dict', 'xml']);
    expect(text(pruned)).toMatch(/removed 1 item,/);
    expect(existsSync(join(dataDir, 'receipts', 'dict-xml.json'))).toBe(false);
    expect(text(await run(['list', '--data-dir', dataDir, 'dict-xml']))).toMatch(/^no item matches in /);
    expect(existsSync(join(dataDir, 'receipts', 'dict-json.json'))).toBe(true);
  });
});

test('a removal is not undone by the journal replay after the server that stored the item crashed', async () => {
  const dir = join(tmp.path, 'crash');
  const a = await spawnServer(dir, ['--log-level', 'warn']);
  const c = await connect({ port: a.port });
  const kept = await c.sendDict({ keep: true }, { id: 'kept' });
  const removed = await c.sendDict({ remove: true }, { id: 'removed' });
  await c.close();
  expect((await run(['rm', 'removed', '--data-dir', dir])).code).toBe(0);
  // The dictionary's bytes are in a's journal: a replay would write it back but for the tombstone.
  expect(readdirSync(join(dir, 'journal')).length).toBeGreaterThan(0);
  expect(readdirSync(join(dir, 'removed'))).toHaveLength(1);
  await a.kill('SIGKILL');
  const listed = await run(['list', '--data-dir', dir, '--json']); // replays a's journal
  expect(
    text(listed)
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id),
  ).toEqual(['kept']);
  expect(existsSync(join(dir, removed.path))).toBe(false);
  expect(existsSync(join(dir, kept.path))).toBe(true);
  // a's segments are gone now: the next removal drops the tombstone no replay needs.
  expect((await run(['rm', 'kept', '--data-dir', dir])).code).toBe(0);
  expect(readdirSync(join(dir, 'removed'))).toEqual([]);
}, 60_000);

test('the default data directory is ./data where the command is typed, under pnpm (INIT_CWD) or not', async () => {
  const here = join(tmp.path, 'typed-here');
  await mkdir(here);
  const direct = await run(['list'], { cwd: here });
  expect(text(direct)).toBe(`nothing received yet in ${join(here, 'data')}\n`);
  // pnpm runs the script in apps/server and says where the user typed it in INIT_CWD (trusted only under the
  // server package's own script, which npm_package_json names: @proj/cli-kit invocationDir).
  const packageDir = dirname(dirname(MAIN_JS));
  const viaPnpm = await run(['list'], {
    cwd: packageDir,
    env: { INIT_CWD: here, npm_package_json: join(packageDir, 'package.json') },
  });
  expect(text(viaPnpm)).toBe(`nothing received yet in ${join(here, 'data')}\n`);
});
