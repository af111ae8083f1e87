/** TLS, the shared token, and operator approval. */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '@proj/protocol';
import { listFiles, makeTempDir } from '@proj/test-utils';
import type { ApprovalRequest } from '../src/index';
import { chunks, RawClient, startTestServer, type TestServer } from './helpers';

describe('token and TLS', () => {
  let tmp: { path: string; remove: () => Promise<void> };
  let t: TestServer | undefined;
  beforeAll(async () => {
    tmp = await makeTempDir();
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(tmp.path, 'key.pem'),
        '-out',
        join(tmp.path, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    await writeFile(join(tmp.path, 'token'), 's3cret-token\n', { mode: 0o600 });
  });
  afterAll(async () => {
    await tmp.remove();
  });
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('refuses a client without the token or with a wrong one (ERR_AUTH), storing nothing of it', async () => {
    t = await startTestServer({ tokenFile: join(tmp.path, 'token') });
    await expect(connect({ port: t.server.port })).rejects.toMatchObject({ code: 'ERR_AUTH' });
    await expect(connect({ port: t.server.port, token: 's3cret-tokeN' })).rejects.toMatchObject({ code: 'ERR_AUTH' });
    // A raw client that ignores the refusal and sends a put anyway.
    const c = await RawClient.connect(t.server.port);
    c.control({ type: 'hello', version: 1, token: 'nope' });
    const bytes = Buffer.from('{"a":1}');
    c.control({ type: 'put_dict', id: 'sneaky', format: 'json', bytes: bytes.length });
    c.data(bytes);
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_AUTH', fatal: true });
    await c.closed();
    expect(await listFiles(join(t.dataDir, 'items'))).toEqual([]);
    // The token itself (newline stripped) works.
    const client = await connect({ port: t.server.port, token: 's3cret-token' });
    await expect(client.sendDict({ ok: 1 })).resolves.toMatchObject({ type: 'receipt' });
    await client.close();
    expect(JSON.stringify(t.logs())).not.toContain('s3cret');
  });

  it('serves TLS with --tls-cert/--tls-key, together with the token', async () => {
    t = await startTestServer({
      tlsCert: join(tmp.path, 'cert.pem'),
      tlsKey: join(tmp.path, 'key.pem'),
      tokenFile: join(tmp.path, 'token'),
    });
    expect(t.server.tls).toBe(true);
    const ca = await readFile(join(tmp.path, 'cert.pem'));
    const client = await connect({ port: t.server.port, tls: { ca }, token: 's3cret-token' });
    const r = await client.sendStream(chunks(Buffer.from('over tls\n')), { name: 'tls.txt' });
    await client.close();
    expect(await readFile(join(t.dataDir, r.path), 'utf8')).toBe('over tls\n');
    // A plain-TCP client gets nowhere: the TLS server drops the connection before any welcome.
    await expect(connect({ port: t.server.port, token: 's3cret-token', timeoutMs: 2000 })).rejects.toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
    });
  });

  it('refuses half a TLS configuration', async () => {
    await expect(startTestServer({ tlsCert: join(tmp.path, 'cert.pem') })).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });
});

describe('operator approval (--ask)', () => {
  it('stores accepted items, refuses rejected ones with ERR_REJECTED, one question at a time', async () => {
    const asked: ApprovalRequest[] = [];
    let open = 0;
    let maxOpen = 0;
    const t = await startTestServer({
      ask: true,
      approver: async (request) => {
        asked.push(request);
        open++;
        maxOpen = Math.max(maxOpen, open);
        await new Promise((r) => setTimeout(r, 20));
        open--;
        return !request.id.startsWith('no-');
      },
    });
    try {
      const clients = await Promise.all([1, 2, 3].map(() => connect({ port: t.server.port })));
      const results = await Promise.allSettled(
        clients.flatMap((c, i) => [
          c.sendDict({ i }, { id: `yes-d${i}` }),
          c.sendStream(chunks(Buffer.from(`file ${i}`)), { id: `no-f${i}`, name: 'f.txt' }),
          c.sendStream(chunks(Buffer.from(`file ${i}`)), { id: `yes-f${i}`, name: 'f.txt' }),
          c.sendDict({ i }, { id: `no-d${i}`, format: 'xml' }),
        ]),
      );
      await Promise.all(clients.map((c) => c.close()));
      expect(maxOpen).toBe(1);
      expect(asked.length).toBe(12);
      expect(asked.find((a) => a.id === 'yes-d0')).toMatchObject({ kind: 'dict', detail: 'json', preview: '{"i":0}' });
      expect(asked.find((a) => a.id === 'no-f1')).toMatchObject({ kind: 'file', detail: 'f.txt' });
      for (const r of results) {
        if (r.status === 'fulfilled') expect(r.value.id.startsWith('yes-')).toBe(true);
        else expect(r.reason).toMatchObject({ code: 'ERR_REJECTED' });
      }
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(6);
      expect((await listFiles(join(t.dataDir, 'items'))).length).toBe(6);
    } finally {
      await t.stop();
    }
  });

  it('rejects an item the operator does not answer in time', async () => {
    let signalled = false;
    const t = await startTestServer({
      ask: true,
      limits: { approvalTimeoutMs: 100 },
      approver: (_request, signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            signalled = true;
            resolve(true); // too late: ignored
          });
        }),
    });
    try {
      const client = await connect({ port: t.server.port });
      await expect(client.sendDict({ late: true })).rejects.toMatchObject({ code: 'ERR_REJECTED' });
      await expect(client.sendStream(chunks(Buffer.from('x')), { name: 'x.txt' })).rejects.toMatchObject({
        code: 'ERR_REJECTED',
      });
      await client.close();
      expect(signalled).toBe(true);
      expect(await listFiles(join(t.dataDir, 'items'))).toEqual([]);
    } finally {
      await t.stop();
    }
  });
});
