/**
 * The scripted commands, run as the real program (`node dist/main.js`) against a real server started in this
 * process: every command, every format, plain and encrypted files, and every exit code. Assertions are on exit
 * codes, the bytes the server stored, and checksums.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decryptFile, generateIdentity, readIdentityFile, recipientOf } from '@proj/crypto';
import { decodeDict } from '@proj/protocol/dict';
import { makeTempDir, sha256File, sha256Hex } from '@proj/test-utils';
import { jsonLines, runCli, startFlakyProxy, startTestServer, type TestServer } from './helpers/harness';

let server: TestServer;
let work: { path: string; remove: () => Promise<void> };
const at = (): string[] => ['--host', '127.0.0.1', '--port', String(server.port)];

beforeAll(async () => {
  server = await startTestServer();
  work = await makeTempDir('client-it-work-');
});
afterAll(async () => {
  await server.close();
  await server.removeDir();
  await work.remove();
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(work.path, name);
  await writeFile(path, content);
  return path;
}

async function storedCount(dataDir: string): Promise<number> {
  let n = 0;
  for (const day of await readdir(join(dataDir, 'items')).catch(() => [] as string[])) {
    n += (await readdir(join(dataDir, 'items', day))).length;
  }
  return n;
}

describe('send-dict', () => {
  const dict = {
    name: 'Ada',
    age: 36,
    admin: true,
    manager: null,
    address: { city: 'London', zip: 'N1' },
    tags: ['math', 1.5, false],
  };

  it.each([
    ['json', 'json'],
    ['xml', 'xml'],
    ['binary', 'protobuf'],
    ['protobuf', 'protobuf'],
  ])('sends --format %s; the server stores those bytes and they decode to the dictionary', async (flag, wire) => {
    const r = await runCli(['send-dict', ...at(), '--format', flag, '--data', JSON.stringify(dict), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [receipt] = jsonLines(r.stdout);
    expect(receipt).toMatchObject({
      ok: true,
      kind: 'dict',
      format: wire,
      verified: true,
      duplicate: false,
      encrypted: false,
    });
    const stored = join(server.dataDir, String(receipt?.path));
    expect(await sha256File(stored)).toBe(receipt?.sha256);
    const bytes = await readFile(stored);
    expect(bytes.length).toBe(receipt?.bytes);
    expect(decodeDict(bytes, wire as 'json' | 'xml' | 'protobuf')).toEqual(dict);
  });

  it('reads --data-file, and - for standard input, and prints a readable line without --json', async () => {
    const path = await file('d.json', JSON.stringify({ from: 'file' }));
    const r = await runCli(['send-dict', ...at(), '--data-file', path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^sent dictionary \(json\) -> items\/\S+ \(\d+ B, sha256 [0-9a-f]{64}, checksum matches\) id \S+\n$/,
    );
    const stored = join(server.dataDir, /-> (\S+)/.exec(r.stdout)?.[1] ?? '');
    expect(JSON.parse(await readFile(stored, 'utf8'))).toEqual({ from: 'file' });

    const s = await runCli(['send-dict', ...at(), '--data-file', '-', '--json'], {}, '{"from":"stdin"}');
    expect(s.code).toBe(0);
    const [receipt] = jsonLines(s.stdout);
    expect(JSON.parse(await readFile(join(server.dataDir, String(receipt?.path)), 'utf8'))).toEqual({ from: 'stdin' });
  });

  it('takes host and port from PROJ_HOST and PROJ_PORT', async () => {
    const r = await runCli(['send-dict', '--data', '{"env":1}', '--json'], {
      PROJ_HOST: '127.0.0.1',
      PROJ_PORT: String(server.port),
    });
    expect(r.code).toBe(0);
  });

  it('resends under the same --id: the first receipt comes back and nothing is stored twice', async () => {
    const before = await storedCount(server.dataDir);
    const args = ['send-dict', ...at(), '--id', 'same-id-1', '--data', '{"once":true}', '--json'];
    const first = await runCli(args);
    const second = await runCli(args);
    expect([first.code, second.code]).toEqual([0, 0]);
    const [a] = jsonLines(first.stdout);
    const [b] = jsonLines(second.stdout);
    expect(a).toMatchObject({ id: 'same-id-1', duplicate: false });
    expect(b).toMatchObject({ id: 'same-id-1', duplicate: true, path: a?.path, sha256: a?.sha256 });
    expect(await storedCount(server.dataDir)).toBe(before + 1);
  });

  it('exits 5 when the receipt does not match what was sent (other content under a used id)', async () => {
    expect((await runCli(['send-dict', ...at(), '--id', 'clash-1', '--data', '{"v":1}'])).code).toBe(0);
    const r = await runCli(['send-dict', ...at(), '--id', 'clash-1', '--data', '{"v":2}']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/ERR_RECEIPT_MISMATCH/);
    expect(r.stdout).toBe('');
  });

  it.each([
    [['--data', '[1,2]'], /must be a JSON object/],
    [['--data', '{"a":'], /must be a JSON object/],
    [['--data', '{}', '--format', 'yaml'], /--format must be json, xml or binary/],
    [[], /exactly one of --data or --data-file/],
    [['--data', '{}', '--data-file', 'x.json'], /exactly one of --data or --data-file/],
    [['--data-file', '/no/such/file.json'], /no such file/],
    [['--data', '{}', '--id', 'bad id'], /--id must be/],
    [['--data', '{}', '--port', 'http'], /--port must be a port number/],
    [['--data', '{}', '--no-such-flag'], /unknown option/],
  ])('exits 2 for a usage error: %j', async (args, message) => {
    const r = await runCli(['send-dict', ...at(), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('exits 2 for a dictionary the binary format cannot carry exactly, before sending', async () => {
    const before = await storedCount(server.dataDir);
    const r = await runCli(['send-dict', ...at(), '--format', 'binary', '--data', '{"big":18014398509481984}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_UNSAFE_INTEGER/);
    expect(await storedCount(server.dataDir)).toBe(before);
  });
});

describe('send-file', () => {
  it('sends a plain file; the stored bytes are the file', async () => {
    const path = await file('plain.txt', 'hello\nworld\n');
    const r = await runCli(['send-file', ...at(), path, '--json']);
    expect(r.code).toBe(0);
    const [receipt] = jsonLines(r.stdout);
    expect(receipt).toMatchObject({
      ok: true,
      kind: 'file',
      encrypted: false,
      bytes: 12,
      sha256: sha256Hex('hello\nworld\n'),
      source: path,
    });
    expect(String(receipt?.path)).toMatch(/plain\.txt$/);
    expect(await readFile(join(server.dataDir, String(receipt?.path)), 'utf8')).toBe('hello\nworld\n');
  });

  it("--encrypt encrypts to the server's key: only the server's identity opens what it stored", async () => {
    const content = 'secret payload\n';
    const path = await file('secret.txt', content);
    const r = await runCli(['send-file', ...at(), '--encrypt', path, '--json']);
    expect(r.code).toBe(0);
    const [receipt] = jsonLines(r.stdout);
    expect(receipt).toMatchObject({ encrypted: true, plainBytes: content.length });
    const stored = join(server.dataDir, String(receipt?.path));
    expect(stored).toMatch(/secret\.txt\.age$/);
    expect(await sha256File(stored)).toBe(receipt?.sha256);
    const raw = await readFile(stored);
    expect(raw.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(raw.includes(Buffer.from('secret payload'))).toBe(false);
    const identities = await readIdentityFile(join(server.dataDir, 'identity.txt'));
    const out = join(work.path, 'secret.out');
    await decryptFile(stored, out, { identities });
    expect(await readFile(out, 'utf8')).toBe(content);
  });

  it('--recipient encrypts to another key (repeatable)', async () => {
    const mine = await generateIdentity();
    const other = await generateIdentity();
    const path = await file('to-me.txt', 'for my eyes');
    const r = await runCli([
      'send-file',
      ...at(),
      path,
      '--recipient',
      await recipientOf(mine),
      '--recipient',
      await recipientOf(other),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const stored = join(server.dataDir, String(jsonLines(r.stdout)[0]?.path));
    for (const identity of [mine, other]) {
      const out = join(work.path, 'to-me.out');
      await decryptFile(stored, out, { identities: [identity] });
      expect(await readFile(out, 'utf8')).toBe('for my eyes');
    }
    const serverKeys = await readIdentityFile(join(server.dataDir, 'identity.txt'));
    await expect(decryptFile(stored, join(work.path, 'nope.out'), { identities: serverKeys })).rejects.toMatchObject({
      code: 'ERR_AGE_NO_IDENTITY_MATCH',
    });
  });

  it('--passphrase-file encrypts with the passphrase in the file', async () => {
    const path = await file('pp.txt', 'passphrase protected');
    const pass = await file('pass', 'correct horse battery\n');
    await chmod(pass, 0o600);
    const r = await runCli(['send-file', ...at(), path, '--passphrase-file', pass, '--json']);
    expect(r.code).toBe(0);
    const stored = join(server.dataDir, String(jsonLines(r.stdout)[0]?.path));
    const out = join(work.path, 'pp.out');
    await decryptFile(stored, out, { passphrase: 'correct horse battery' });
    expect(await readFile(out, 'utf8')).toBe('passphrase protected');
  });

  it('sends several files in one call, one receipt line each', async () => {
    const paths = await Promise.all(['a.txt', 'b.txt', 'c.bin'].map((n, i) => file(n, `file ${i}\n`)));
    const r = await runCli(['send-file', ...at(), ...paths, '--json']);
    expect(r.code).toBe(0);
    const receipts = jsonLines(r.stdout);
    expect(receipts.map((x) => x.source)).toEqual(paths);
    expect(new Set(receipts.map((x) => x.id)).size).toBe(3);
    for (const [i, receipt] of receipts.entries()) {
      expect(await readFile(join(server.dataDir, String(receipt.path)), 'utf8')).toBe(`file ${i}\n`);
    }
  });

  it('sends a large file in chunks, and draws no progress bar when standard error is not a terminal', async () => {
    const big = randomBytes(6 * 1024 * 1024 + 123);
    const path = await file('big.bin', big);
    const r = await runCli(['send-file', ...at(), path, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const [receipt] = jsonLines(r.stdout);
    expect(receipt).toMatchObject({ bytes: big.length, sha256: sha256Hex(big) });
    expect(await sha256File(join(server.dataDir, String(receipt?.path)))).toBe(sha256Hex(big));
  });

  it.each([
    [['/no/such/file.txt'], /no such file/],
    [['a', 'b', '--id', 'x1'], /--id is for one file/],
    [['a', '--passphrase-file', 'p', '--recipient', 'age1x'], /not both/],
    [['a', '--recipient', 'ssh-ed25519 AAAA'], /must be an age recipient/],
    [[], /missing required argument/],
  ])('exits 2 for a usage error: %j', async (args, message) => {
    const r = await runCli(['send-file', ...at(), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('exits 2 for an empty passphrase file, without connecting', async () => {
    const path = await file('x.txt', 'x');
    const empty = await file('empty-pass', '\n');
    const r = await runCli(['send-file', '--port', '1', path, '--passphrase-file', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/empty/);
  });
});

describe('exit codes for connection failures and refusals', () => {
  it('exits 3 when nobody listens', async () => {
    const closed = await startTestServer();
    const port = closed.port;
    await closed.close();
    await closed.removeDir();
    const r = await runCli(['send-dict', '--port', String(port), '--data', '{}']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^client: error: .*nobody is listening.* \(ERR_CONNECT\)\n$/);
  });

  it('exits 4 with the server code when the server refuses: ERR_AUTH without the token, ERR_FILE_TOO_LARGE', async () => {
    const guarded = await startTestServer({ token: 'let-me-in', limits: { maxFileBytes: 1000 } });
    try {
      const port = ['--port', String(guarded.port)];
      const noToken = await runCli(['send-dict', ...port, '--data', '{}']);
      expect(noToken.code).toBe(4);
      expect(noToken.stderr).toMatch(/client: error: the server refused: .* \(ERR_AUTH\)/);

      const tokenFile = await file('token', 'let-me-in\n');
      const ok = await runCli(['send-dict', ...port, '--token-file', tokenFile, '--data', '{"in":true}']);
      expect(ok.code).toBe(0);

      const big = await file('big-for-limit.bin', randomBytes(5000));
      const small = await file('small.txt', 'fits');
      const tooBig = await runCli(['send-file', ...port, '--token-file', tokenFile, big, '--json']);
      expect(tooBig.code).toBe(4);
      expect(tooBig.stderr).toMatch(/ERR_FILE_TOO_LARGE/);

      // With several files, a refused one does not stop the others; the exit code still tells.
      const mixed = await runCli(['send-file', ...port, '--token-file', tokenFile, big, small, '--json']);
      expect(mixed.code).toBe(4);
      const lines = jsonLines(mixed.stdout);
      expect(lines[0]).toMatchObject({ ok: false, source: big, code: 'ERR_FILE_TOO_LARGE' });
      expect(lines[1]).toMatchObject({ ok: true, source: small });
      expect(await readFile(join(guarded.dataDir, String(lines[1]?.path)), 'utf8')).toBe('fits');
    } finally {
      await guarded.close();
      await guarded.removeDir();
    }
  });

  it('ping reports what the server announces', async () => {
    const r = await runCli(['ping', ...at(), '--json']);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)[0]).toMatchObject({
      ok: true,
      recipient: server.recipient,
      formats: ['json', 'xml', 'protobuf'],
    });
  });

  it('prints help with the exit codes and exits 2 when run without a command and without a terminal', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: client/);
    expect(r.stderr).toMatch(/Exit codes:/);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/send-file/);
  });
});

describe('retries after a lost connection', () => {
  it('resends a dictionary whose receipt was lost, with the same id: stored once, exit 0', async () => {
    const proxy = await startFlakyProxy(server, (n) => (n === 1 ? { dropAtServerFrame: 2 } : 'pass'));
    try {
      const before = await storedCount(server.dataDir);
      const r = await runCli(['send-dict', '--port', String(proxy.port), '--data', '{"retry":"dict"}', '--json']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/connection lost .*retry 1 of 5 .*same put id/);
      expect(proxy.connections).toBe(2);
      const [receipt] = jsonLines(r.stdout);
      // The first attempt was stored; the retry got its receipt back.
      expect(receipt).toMatchObject({ duplicate: true });
      expect(await storedCount(server.dataDir)).toBe(before + 1);
      expect(JSON.parse(await readFile(join(server.dataDir, String(receipt?.path)), 'utf8'))).toEqual({
        retry: 'dict',
      });
    } finally {
      await proxy.close();
    }
  });

  it('resends an encrypted file cut off mid-upload, with identical bytes: stored once, exit 0', async () => {
    const content = randomBytes(3 * 1024 * 1024);
    const path = await file('cut.bin', content);
    const proxy = await startFlakyProxy(server, (n) => (n <= 2 ? { dropAfterClientBytes: 1024 * 1024 } : 'pass'));
    try {
      const before = await storedCount(server.dataDir);
      const r = await runCli(['send-file', '--port', String(proxy.port), '--encrypt', path, '--json']);
      expect(r.code).toBe(0);
      expect(proxy.connections).toBe(3);
      expect(await storedCount(server.dataDir)).toBe(before + 1);
      const [receipt] = jsonLines(r.stdout);
      const out = join(work.path, 'cut.out');
      await decryptFile(join(server.dataDir, String(receipt?.path)), out, {
        identities: await readIdentityFile(join(server.dataDir, 'identity.txt')),
      });
      expect(sha256Hex(await readFile(out))).toBe(sha256Hex(content));
    } finally {
      await proxy.close();
    }
  });

  it('exits 3 when the retries run out', async () => {
    const proxy = await startFlakyProxy(server, () => ({ dropAtServerFrame: 2 }));
    try {
      const r = await runCli(['send-dict', '--port', String(proxy.port), '--retries', '2', '--data', '{"never":1}']);
      expect(r.code).toBe(3);
      expect(proxy.connections).toBe(3);
      expect(r.stderr).toMatch(/retry 2 of 2/);
      expect(r.stderr).toMatch(/client: error: .* \(ERR_CONNECTION_CLOSED\)/);
    } finally {
      await proxy.close();
    }
  });
});
