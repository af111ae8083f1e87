/**
 * The library client (`@proj/protocol` `connect`) against a real server on real TCP, through a proxy that cuts
 * connections: retries, resume at many cut offsets (bytes counted on the wire), a partial that no longer matches
 * the file, encrypted resume opened by the age CLI, AbortSignal, and disposal.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decryptFile, generateIdentity, recipientOf } from '@proj/crypto';
import {
  AbortedError,
  ConnectionClosedError,
  connect,
  ENCRYPT_IN_WORKER_FROM_BYTES,
  type Client,
  type EncryptionKeys,
  type ResumeEvent,
} from '@proj/protocol';
import { makeTempDir, sha256Hex } from '@proj/test-utils';
import { startFlakyProxy, startTestServer, type FlakyProxy, type TestServer } from '../helpers/harness';

const MiB = 1024 * 1024;
/** Frame headers and control envelopes on top of a file's bytes: a few hundred bytes per connection at most. */
const OVERHEAD = 64 * 1024;

let server: TestServer;
let work: { path: string; remove: () => Promise<void> };
const proxies: FlakyProxy[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer();
  work = await makeTempDir('client-lib-work-');
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await server.close();
  await server.removeDir();
  await work.remove();
});

async function proxy(plan: Parameters<typeof startFlakyProxy>[1]): Promise<FlakyProxy> {
  const p = await startFlakyProxy({ host: '127.0.0.1', port: server.port }, plan);
  proxies.push(p);
  return p;
}

async function open(port: number, extra: Parameters<typeof connect>[0] = {}): Promise<Client> {
  const c = await connect({ port, retry: { retries: 3, baseDelayMs: 10 }, keepAlive: false, ...extra });
  clients.push(c);
  return c;
}

async function file(name: string, bytes: number): Promise<{ path: string; content: Buffer }> {
  const content = randomBytes(bytes);
  const path = join(work.path, name);
  await writeFile(path, content);
  return { path, content };
}

/** Descriptors of this process open on `path` (Linux). */
function descriptorsOn(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

async function stored(receiptPath: string): Promise<Buffer> {
  return readFile(join(server.dataDir, receiptPath));
}

describe('library: retry and resume', () => {
  test.each([
    ['inside put_file', 120],
    ['early in the data', 300 * 1024],
    ['mid-frame', 1 * MiB + 1234],
    ['at half', 2 * MiB],
    ['near the end', 4 * MiB - 3000],
  ])('a connection cut %s: the put resumes on a new connection, stored once and whole', async (_what, cutAt) => {
    const size = 4 * MiB;
    const f = await file(`cut-${cutAt}.bin`, size);
    const p = await proxy((n) => (n === 1 ? { dropAfterClientBytes: cutAt } : 'pass'));
    const c = await open(p.port);
    const resumes: ResumeEvent[] = [];
    c.on('resume', (e) => resumes.push(e));
    const receipt = await c.sendFile(f.path, { id: `cut-${cutAt}` });
    expect(receipt).toMatchObject({ bytes: size, sha256: sha256Hex(f.content), duplicate: false });
    expect((await stored(receipt.path)).equals(f.content)).toBe(true);
    expect(p.connections).toBe(2);
    const held = resumes[0]?.offset ?? 0;
    // Each resume sends only what was missing: the second connection carried the rest and a little framing.
    expect(p.clientBytes[1]).toBeLessThanOrEqual(size - held + OVERHEAD);
    if (cutAt >= 1 * MiB) {
      // The server held (durably) what it received before the cut, give or take what was in flight.
      expect(held).toBeGreaterThan(cutAt - 2 * MiB);
      expect(held).toBeGreaterThan(0);
    }
    expect(held).toBeLessThanOrEqual(cutAt);
  });

  test('the first connection is not retried: a cut inside the hello fails connect() at once', async () => {
    const p = await proxy(() => ({ dropAfterClientBytes: 10 }));
    await expect(open(p.port)).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    expect(p.connections).toBe(1);
  });

  test('a receipt lost after file_end: the retry is answered with the first receipt, nothing sent again', async () => {
    const f = await file('lost-receipt.bin', 512 * 1024);
    // Frame 1 is the welcome, 2 the ready, 3 the receipt: cut there.
    const p = await proxy((n) => (n === 1 ? { dropAtServerFrame: 3 } : 'pass'));
    const c = await open(p.port);
    const receipt = await c.sendFile(f.path, { id: 'lost-receipt' });
    expect(receipt).toMatchObject({ duplicate: true, sha256: sha256Hex(f.content) });
    expect(p.clientBytes[1]).toBeLessThan(OVERHEAD);
  });

  test('a partial that no longer matches the file: the client restarts from zero, no mixed file is stored', async () => {
    const size = 2 * MiB;
    const f = await file('changed.bin', size);
    const p = await proxy((n) => (n === 1 ? { dropAfterClientBytes: 1 * MiB } : 'pass'));
    const first = await open(p.port, { retry: false });
    await expect(first.sendFile(f.path, { id: 'changed' })).rejects.toBeInstanceOf(ConnectionClosedError);
    // The file changes where the server already holds it (same size).
    const changed = Buffer.from(f.content);
    changed.fill(0x41, 0, 4096);
    await writeFile(f.path, changed);
    const second = await open(p.port);
    const restarts: string[] = [];
    second.on('restart', (e) => restarts.push(e.reason));
    const receipt = await second.sendFile(f.path, { id: 'changed' });
    expect(restarts).toEqual(['checksum']);
    expect(receipt.sha256).toBe(sha256Hex(changed));
    expect((await stored(receipt.path)).equals(changed)).toBe(true);
  });

  test('a partial damaged on the server: a resume in the same process (its hash states kept) restarts from zero', async () => {
    const size = 4 * MiB;
    const f = await file('damaged.bin', size);
    const own = await startTestServer();
    let again: TestServer | undefined;
    try {
      const p = await startFlakyProxy({ host: '127.0.0.1', port: own.port }, (n) =>
        n === 1 ? { dropAfterClientBytes: 2 * MiB } : 'pass',
      );
      proxies.push(p);
      const first = await open(p.port, { retry: false });
      await expect(first.sendFile(f.path, { id: 'damaged' })).rejects.toBeInstanceOf(ConnectionClosedError);
      const partials = join(own.dataDir, 'partials');
      const record = async () => {
        const text = await readFile(join(partials, 'damaged.json'), 'utf8').catch(() => undefined);
        return text === undefined ? undefined : (JSON.parse(text) as { file: string; durable: number });
      };
      for (let i = 0; i < 200 && !((await record())?.durable ?? 0); i++) await new Promise((r) => setTimeout(r, 25));
      const held = await record();
      expect(held?.durable).toBeGreaterThan(1000);
      await own.close();
      // One byte of what the server holds flips on its disk; the restarted server reads it back.
      const part = join(partials, held?.file as string);
      const bytes = await readFile(part);
      bytes[1000] = (bytes[1000] as number) ^ 1;
      await writeFile(part, bytes);
      again = await startTestServer({ dataDir: own.dataDir });
      const second = await open(again.port);
      const restarts: string[] = [];
      const resumes: ResumeEvent[] = [];
      second.on('restart', (e) => restarts.push(e.reason));
      second.on('resume', (e) => resumes.push(e));
      const receipt = await second.sendFile(f.path, { id: 'damaged' });
      expect(resumes.map((e) => e.offset)).toEqual([held?.durable]);
      expect(restarts).toEqual(['checksum']);
      expect(receipt.sha256).toBe(sha256Hex(f.content));
      expect((await readFile(join(own.dataDir, receipt.path))).equals(f.content)).toBe(true);
    } finally {
      await again?.close();
      await own.removeDir();
    }
  });

  test('resume: false sends from zero', async () => {
    const size = 2 * MiB;
    const f = await file('no-resume.bin', size);
    const p = await proxy((n) => (n === 1 ? { dropAfterClientBytes: 1 * MiB } : 'pass'));
    const first = await open(p.port, { retry: false });
    await expect(first.sendFile(f.path, { id: 'no-resume' })).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    const second = await open(p.port);
    const resumes: ResumeEvent[] = [];
    second.on('resume', (e) => resumes.push(e));
    const receipt = await second.sendFile(f.path, { id: 'no-resume', resume: false });
    expect(resumes).toEqual([]);
    expect(p.clientBytes[1]).toBeGreaterThan(size);
    expect((await stored(receipt.path)).equals(f.content)).toBe(true);
  });

  // Below ENCRYPT_IN_WORKER_FROM_BYTES the file is encrypted on the sending thread, from it in a worker thread.
  test.each([
    ['on the sending thread', 3 * MiB + 17],
    ['in a worker thread', ENCRYPT_IN_WORKER_FROM_BYTES + 3 * MiB + 17],
  ])(
    'an encrypted send resumes (encrypted %s): the same ciphertext continues, and the age CLI opens the stored file',
    async (_where, size) => {
      const f = await file(`secret-${size}.bin`, size);
      const identity = await generateIdentity();
      const recipient = await recipientOf(identity);
      const p = await proxy((n) => (n === 1 ? { dropAfterClientBytes: 2 * MiB } : 'pass'));
      const c = await open(p.port);
      const resumes: ResumeEvent[] = [];
      c.on('resume', (e) => resumes.push(e));
      const receipt = await c.sendFile(f.path, { id: `secret-${size}`, encrypt: { recipients: [recipient] } });
      expect(resumes[0]?.offset).toBeGreaterThan(0);
      expect(receipt).toMatchObject({ encrypted: true });
      const storedPath = join(server.dataDir, receipt.path);
      const age = spawnSync('age', ['--version']);
      if (age.error) {
        console.log('skipped the age CLI check: age is not installed');
        return;
      }
      const keyFile = join(work.path, 'identity.txt');
      await writeFile(keyFile, `${identity}\n`, { mode: 0o600 });
      const out = spawnSync('age', ['-d', '-i', keyFile, storedPath], { maxBuffer: 64 * MiB });
      expect(out.status).toBe(0);
      expect(Buffer.from(out.stdout).equals(f.content)).toBe(true);
    },
  );

  test('encryption keys kept from one client resume the send in another (as after a crash)', async () => {
    const size = 2 * MiB;
    const f = await file('kept-keys.bin', size);
    const identity = await generateIdentity();
    const recipient = await recipientOf(identity);
    const p = await proxy((n) => (n === 1 ? { dropAfterClientBytes: 1 * MiB + 5 } : 'pass'));
    const first = await open(p.port, { retry: false });
    let kept: EncryptionKeys | undefined;
    await expect(
      first.sendFile(f.path, {
        id: 'kept',
        encrypt: { recipients: [recipient] },
        onEncryptionKeys: (k) => {
          kept = k;
        },
      }),
    ).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    const second = await open(p.port);
    const resumes: ResumeEvent[] = [];
    second.on('resume', (e) => resumes.push(e));
    const receipt = await second.sendFile(f.path, {
      id: 'kept',
      encrypt: { recipients: [recipient] },
      ...(kept ? { encryptionKeys: kept } : {}),
    });
    expect(resumes[0]?.offset).toBeGreaterThan(0);
    expect(p.clientBytes[1]).toBeLessThanOrEqual(size + 1024 - (resumes[0]?.offset ?? 0) + OVERHEAD);
    expect(receipt.sha256).toBe(sha256Hex(await stored(receipt.path)));
  });
});

test('an encrypted partial that no longer matches: the client restarts from zero with new keys', async () => {
  const size = 2 * MiB;
  const f = await file('changed-secret.bin', size);
  const identity = await generateIdentity();
  const recipient = await recipientOf(identity);
  const p = await proxy((n) => (n === 1 ? { dropAfterClientBytes: 1 * MiB } : 'pass'));
  const first = await open(p.port, { retry: false });
  const keys: EncryptionKeys[] = [];
  const encrypt = { recipients: [recipient] };
  await expect(
    first.sendFile(f.path, { id: 'changed-secret', encrypt, onEncryptionKeys: (k) => void keys.push(k) }),
  ).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
  const changed = Buffer.from(f.content);
  changed.fill(0x42, 100, 5000);
  await writeFile(f.path, changed);
  const second = await open(p.port);
  const restarts: string[] = [];
  second.on('restart', (e) => restarts.push(e.reason));
  const receipt = await second.sendFile(f.path, {
    id: 'changed-secret',
    encrypt,
    encryptionKeys: keys[0] as EncryptionKeys,
    onEncryptionKeys: (k) => void keys.push(k),
  });
  expect(restarts).toEqual(['checksum']);
  // The kept keys were offered again, then new ones were made for the restart.
  expect(keys).toHaveLength(3);
  expect(Buffer.from(keys[2]?.payloadKey ?? []).equals(Buffer.from(keys[0]?.payloadKey ?? []))).toBe(false);
  const plain = await decryptFile(join(server.dataDir, receipt.path), join(work.path, 'changed-secret.out'), {
    identities: [identity],
  }).then(() => readFile(join(work.path, 'changed-secret.out')));
  expect(plain.equals(changed)).toBe(true);
});

describe('library: AbortSignal, close and dispose', () => {
  test('aborting a send rejects with AbortedError (ERR_ABORTED); the next send of the id resumes', async () => {
    const size = 8 * MiB;
    const f = await file('abort.bin', size);
    const c = await open(server.port);
    const controller = new AbortController();
    const sending = c.sendFile(f.path, {
      id: 'abort',
      signal: controller.signal,
      onProgress: (p) => {
        if (p.sent >= 2 * MiB) controller.abort();
      },
    });
    const err = await sending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(err).toMatchObject({ code: 'ERR_ABORTED' });
    const resumes: ResumeEvent[] = [];
    c.on('resume', (e) => resumes.push(e));
    const receipt = await c.sendFile(f.path, { id: 'abort' });
    expect(resumes).toHaveLength(1);
    expect((await stored(receipt.path)).equals(f.content)).toBe(true);
  });

  test('aborting an encrypted send mid-file (encrypted in a worker): ERR_ABORTED, the worker gone, the file closed; the next send resumes', async () => {
    const size = ENCRYPT_IN_WORKER_FROM_BYTES + 5 * MiB + 3;
    const f = await file('abort-secret.bin', size);
    const identity = await generateIdentity();
    const recipient = await recipientOf(identity);
    const c = await open(server.port);
    const controller = new AbortController();
    let kept: EncryptionKeys | undefined;
    const err = await c
      .sendFile(f.path, {
        id: 'abort-secret',
        encrypt: { recipients: [recipient] },
        signal: controller.signal,
        onEncryptionKeys: (k) => {
          kept = k;
        },
        onProgress: (p) => {
          if (p.sent >= 4 * MiB) controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_ABORTED' });
    // The worker read the file through a descriptor this thread closes once the worker has ended.
    if (existsSync('/proc/self/fd')) expect(descriptorsOn(f.path)).toBe(0);
    else console.log('skipped the descriptor check: no /proc/self/fd here');
    const resumes: ResumeEvent[] = [];
    c.on('resume', (e) => resumes.push(e));
    const receipt = await c.sendFile(f.path, {
      id: 'abort-secret',
      encrypt: { recipients: [recipient] },
      ...(kept ? { encryptionKeys: kept } : {}),
    });
    expect(resumes).toHaveLength(1);
    const out = join(work.path, 'abort-secret.out');
    await decryptFile(join(server.dataDir, receipt.path), out, { identities: [identity] });
    expect((await readFile(out)).equals(f.content)).toBe(true);
  });

  test('a signal aborted before the call rejects at once and sends nothing', async () => {
    const c = await open(server.port);
    await expect(c.sendDict({ a: 1 }, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    await expect(c.sendDict({ a: 2 })).resolves.toMatchObject({ kind: 'dict' });
  });

  test('Symbol.asyncDispose closes the client for good; closed resolves; later calls fail', async () => {
    const c = await open(server.port);
    const closes: unknown[] = [];
    c.on('close', (e) => closes.push(e));
    await c[Symbol.asyncDispose]();
    expect(c.isClosed).toBe(true);
    await expect(c.closed).resolves.toEqual({});
    expect(closes).toEqual([{}]);
    await expect(c.sendDict({ a: 1 })).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
  });

  test("the server's refusal is instanceof its class, and a RemoteError", async () => {
    const { AuthError, RemoteError } = await import('@proj/protocol');
    const guarded = await startTestServer({ token: 'right-token' });
    try {
      const err = await connect({ port: guarded.port, token: 'wrong', retry: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect(err).toBeInstanceOf(RemoteError);
      expect(err).toMatchObject({ code: 'ERR_AUTH' });
    } finally {
      await guarded.close();
      await guarded.removeDir();
    }
  });
});
