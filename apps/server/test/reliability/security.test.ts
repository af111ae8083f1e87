/**
 * Security (docs/RELIABILITY.md §5): path escapes refused; with a token set, unauthenticated clients store
 * nothing even when they pipeline puts behind a bad hello; TLS with a self-signed certificate made here; secrets
 * never in logs, output or process arguments; modes of the identity and of everything stored, whatever the umask.
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { join } from 'node:path';
import { connect } from '@proj/protocol';
import { encodeControlFrame, encodeFrame, FrameKind } from '@proj/protocol/wire';
import { makeTempDir } from '@proj/test-utils';
import { chunks, startTestServer } from '../helpers';
import { auditDataDir, buildServer, Probe, recordFigures, sha256, spawnServer } from './harness';

const ESCAPES = [
  '../../../../../../tmp/escaped',
  '/etc/cron.d/evil',
  '..\\..\\..\\evil.bat',
  'a/../../../b',
  './../c',
  'items/../../d',
  '....//....//e',
  '%2e%2e%2fescaped',
  'receipts/x.json',
  '../receipts/forged.json',
  'identity.txt',
  '\u0000/../f',
  'C:\\Windows\\evil.dll',
  '\\\\server\\share\\g',
  '..',
  '.',
  '/',
  '',
];

describe('security', () => {
  it('no client name escapes items/<day>/, none replaces a receipt or the identity; names that clean to nothing are refused', async () => {
    const parent = await makeTempDir('escape-');
    const t = await startTestServer({ dataDir: join(parent.path, 'data'), output: 'file', logLevel: 'silent' });
    try {
      const identityBefore = await readFile(join(t.dataDir, 'identity.txt'), 'utf8');
      const codes: Record<string, string> = {};
      for (const [i, name] of ESCAPES.entries()) {
        const p = await Probe.connect(t.server.port);
        const body = Buffer.from(`payload ${i}`);
        p.write(
          Buffer.concat([
            encodeControlFrame({ type: 'hello', version: 1 }),
            encodeControlFrame({ type: 'put_file', id: `esc-${i}`, name, size: body.length }),
            ...encodeFrame(FrameKind.Data, body),
            encodeControlFrame({ type: 'file_end', id: `esc-${i}`, bytes: body.length, sha256: sha256(body) }),
            encodeControlFrame({ type: 'ping', nonce: 'end' }),
          ]),
        );
        await p.until(() => p.messages.some((m) => m.type === 'pong') || p.closed, 5000);
        const answer = p.messages.find((m) => m.type === 'receipt' || m.type === 'error');
        codes[name] = answer?.type === 'receipt' ? answer.path : answer?.type === 'error' ? answer.code : 'none';
        p.socket.destroy();
      }
      for (const [name, what] of Object.entries(codes)) {
        if (what.startsWith('ERR_'))
          expect([name, what]).toEqual([name, name === '' ? 'ERR_BAD_MESSAGE' : 'ERR_NAME_INVALID']);
        else expect(what).toMatch(/^items\/\d{4}-\d{2}-\d{2}\/\d{6}-[0-9a-f]{8}-\d+-esc-\d+-[^/\\]+$/);
        expect(what).not.toContain('..');
      }
      expect(await readdir(parent.path)).toEqual(['data']);
      expect(await readFile(join(t.dataDir, 'identity.txt'), 'utf8')).toBe(identityBefore);
      const audit = await auditDataDir(t.dataDir);
      expect(audit.problems).toEqual([]);
      expect([...audit.byId.keys()].every((id) => id.startsWith('esc-'))).toBe(true);
      recordFigures('path-escapes', {
        names: ESCAPES.length,
        stored: audit.receipts,
        refused: Object.values(codes).filter((c) => c.startsWith('ERR_')).length,
      });
    } finally {
      await t.stop();
      await parent.remove();
    }
  });

  it('with a token set, clients without it store nothing, even with puts pipelined behind the hello', async () => {
    const t = await startTestServer({ output: 'file', logLevel: 'silent', token: 'correct horse battery staple' });
    try {
      const body = Buffer.from('{"sneaky":true}');
      const tries: Array<Record<string, unknown>> = [
        {},
        { token: 'wrong' },
        { token: 'correct horse battery stapl' },
        { token: 'correct horse battery staple\n' },
      ];
      for (const [i, extra] of tries.entries()) {
        const p = await Probe.connect(t.server.port);
        p.write(
          Buffer.concat([
            encodeControlFrame({ type: 'hello', version: 1, ...extra }),
            encodeControlFrame({ type: 'put_dict', id: `sneak-${i}`, format: 'json', bytes: body.length }),
            ...encodeFrame(FrameKind.Data, body),
            encodeControlFrame({ type: 'put_file', id: `sneakf-${i}`, name: 'a.txt', size: body.length }),
            ...encodeFrame(FrameKind.Data, body),
            encodeControlFrame({ type: 'file_end', id: `sneakf-${i}`, bytes: body.length, sha256: sha256(body) }),
          ]),
        );
        await p.until(() => p.closed, 5000);
        expect(p.messages).toEqual([expect.objectContaining({ type: 'error', code: 'ERR_AUTH', fatal: true })]);
      }
      const audit = await auditDataDir(t.dataDir);
      expect(audit).toMatchObject({ receipts: 0, items: 0, temps: [], problems: [] });
      // The right token is served.
      const c = await connect({ port: t.server.port, token: 'correct horse battery staple' });
      await c.sendDict({ ok: true });
      await c.close();
    } finally {
      await t.stop();
    }
  });

  it('serves TLS with a self-signed certificate made here; plain TCP, unverified and silent clients do not disturb it', async () => {
    const dir = await makeTempDir('tls-');
    const cert = join(dir.path, 'cert.pem');
    const key = join(dir.path, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const t = await startTestServer({
      output: 'file',
      logLevel: 'silent',
      tlsCert: cert,
      tlsKey: key,
      limits: { handshakeTimeoutMs: 500 },
    });
    try {
      const ca = await readFile(cert);
      // A client that does not trust the certificate is refused by its own side.
      await expect(connect({ port: t.server.port, tls: true, timeoutMs: 5000 })).rejects.toHaveProperty('code');
      // Plain TCP speaking the protocol to a TLS port: closed, nothing stored.
      const plain = await Probe.connect(t.server.port);
      plain.write(encodeControlFrame({ type: 'hello', version: 1 }));
      await plain.until(() => plain.closed, 5000);
      expect(plain.closed).toBe(true);
      // A TCP connection that never starts TLS is closed by the handshake timeout.
      const silent = net.connect({ host: '127.0.0.1', port: t.server.port });
      silent.on('error', () => undefined);
      const closedIn = await new Promise<number>((r) => {
        const t0 = Date.now();
        silent.on('close', () => r(Date.now() - t0));
      });
      expect(closedIn).toBeLessThan(3000);
      const c = await connect({ port: t.server.port, tls: { ca, servername: 'localhost' } });
      const body = Buffer.alloc(3 * 1024 * 1024, 9);
      const r = await c.sendStream(chunks(body), { name: 'over-tls.bin', size: body.length });
      await c.close();
      expect(r).toMatchObject({ bytes: body.length, sha256: sha256(body) });
      expect((await auditDataDir(t.dataDir)).problems).toEqual([]);
    } finally {
      await t.stop();
      await dir.remove();
    }
  });

  describe('the server as a process', () => {
    beforeAll(() => buildServer(), 120_000);

    it('never shows the token, the passphrase or the identity in its logs, output or arguments; modes are private under umask 000', async () => {
      const dir = await makeTempDir('secrets-');
      const token = 'tok-3c1f9a7e5b2d4a60-secret';
      const passphrase = 'pass-8e2b6f0c1d9a4e73-secret';
      const tokenFile = join(dir.path, 'token');
      const passFile = join(dir.path, 'pass');
      await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
      await writeFile(passFile, `${passphrase}\n`, { mode: 0o600 });
      const dataDir = join(dir.path, 'data');
      const server = await spawnServer(
        dataDir,
        [
          '--token-file',
          tokenFile,
          '--passphrase-file',
          passFile,
          '--log-level',
          'trace',
          '--output',
          'both',
          '--save-plaintext',
        ],
        { umask: '000' },
      );
      try {
        const cmdline = await readFile(`/proc/${server.pid}/cmdline`, 'utf8');
        const environ = await readFile(`/proc/${server.pid}/environ`, 'utf8');
        // Every way a client can present a token, right or wrong.
        for (const hello of [{ token: 'wrong-token' }, { token }, { token: `${token}x` }, { agent: token }, {}]) {
          const p = await Probe.connect(server.port);
          p.write(encodeControlFrame({ type: 'hello', version: 1, ...hello }));
          p.write(encodeControlFrame({ type: 'put_dict', id: 'x', format: 'json', bytes: 2, token } as object));
          await p.until(() => p.closed, 5000);
          p.socket.destroy();
        }
        const c = await connect({ port: server.port, token });
        await c.sendDict({ note: 'stored with a token' }, { id: 'with-token' });
        await c.sendStream(chunks(Buffer.from('hello file\n')), { id: 'with-token-file', name: 'a.txt' });
        await c.close();
        await server.kill('SIGTERM');
        const identity = await readFile(join(dataDir, 'identity.txt'), 'utf8');
        const secretKey = /AGE-SECRET-KEY-[0-9A-Z]+/.exec(identity)?.[0] as string;
        expect(secretKey).toBeDefined();
        const everything = `${server.stdout()}\n${server.stderr()}`;
        for (const secret of [token, passphrase, secretKey]) {
          expect(everything.includes(secret)).toBe(false);
          expect(cmdline.includes(secret)).toBe(false);
          expect(environ.includes(secret)).toBe(false);
        }
        expect(server.stderr()).toContain('authentication failed');

        // Modes: the identity 0600; directories 0700; stored items and receipts 0600, with umask 000.
        const modes: Record<string, string> = {};
        const walk = async (d: string, rel: string): Promise<void> => {
          for (const e of await readdir(d, { withFileTypes: true })) {
            const full = join(d, e.name);
            modes[`${rel}${e.name}${e.isDirectory() ? '/' : ''}`] = ((await stat(full)).mode & 0o777).toString(8);
            if (e.isDirectory()) await walk(full, `${rel}${e.name}/`);
          }
        };
        modes['./'] = ((await stat(dataDir)).mode & 0o777).toString(8);
        await walk(dataDir, '');
        for (const [path, mode] of Object.entries(modes)) {
          expect([path, mode]).toEqual([path, path.endsWith('/') ? '700' : '600']);
        }
        recordFigures('secrets-and-modes', {
          secretsChecked: 3,
          logBytes: everything.length,
          entriesChecked: Object.keys(modes).length,
        });
      } finally {
        await server.kill('SIGKILL');
        await dir.remove();
      }
    }, 60_000);
  });
});
