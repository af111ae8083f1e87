/**
 * Issue 11, fault 4: servers sharing a data directory from different PID namespaces (two containers on one
 * volume, each server PID 1) must not take each other for dead. Liveness rests on a lock the kernel holds for
 * each server's lifetime (docs/SERVER.md §5), not on process ids.
 *
 * Real processes: each server runs as PID 1 of its own PID namespace (`unshare --pid --fork --kill-child`, which
 * needs root or user namespaces; skipped with its reason where it is not permitted). A second variant runs two
 * servers in this one process, where both carry the same pid: the same confusion, needing no privilege.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '@proj/protocol';
import { encodeControlFrame, encodeFrame, FrameKind, type Receipt } from '@proj/protocol/wire';
import { makeTempDir } from '@proj/test-utils';
import { decodeSegment } from '../../src/store/journal-record';
import { startTestServer } from '../helpers';
import {
  auditDataDir,
  buildServer,
  checkAcknowledged,
  itUnless,
  MAIN_JS,
  Probe,
  sha256,
  spawnServer,
  type ChildServer,
} from './harness';

const UNSHARE = ['unshare', '--pid', '--fork', '--kill-child'];

/** Why servers cannot run in their own PID namespace here, or undefined when they can. */
function unshareUnavailable(): string | undefined {
  const r = spawnSync(
    UNSHARE[0] as string,
    [...UNSHARE.slice(1), process.execPath, '-e', 'process.stdout.write(String(process.pid))'],
    { encoding: 'utf8' },
  );
  if (r.error) return `unshare cannot run: ${r.error.message}`;
  if (r.status !== 0 || r.stdout !== '1')
    return `unshare --pid is not permitted here: ${(r.stderr || `exit ${r.status}`).trim()}`;
  return undefined;
}

/** The node process under a server started through `unshare` (the one that is PID 1 of its namespace). */
function innerPid(server: ChildServer): number {
  return Number(
    execFileSync('pgrep', ['-P', String(server.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')[0],
  );
}

/** Stops a server started through `unshare` with `signal` sent to the server itself, and waits for it to be gone. */
async function stopInner(server: ChildServer, signal: NodeJS.Signals): Promise<void> {
  process.kill(innerPid(server), signal);
  await server.exited;
}

/** Starts a file put of `size` bytes on a raw connection and sends `sent` of them; the put stays open. */
async function startUpload(port: number, id: string, size: number, sent: number): Promise<Probe> {
  const p = await Probe.connect(port);
  p.write(encodeControlFrame({ type: 'hello', version: 1 }));
  p.write(encodeControlFrame({ type: 'put_file', id, name: 'slow.bin', size }));
  p.write(Buffer.concat(encodeFrame(FrameKind.Data, Buffer.alloc(sent, 5))));
  return p;
}

/** The put ids of the records in a journal segment. */
async function idsInSegment(path: string): Promise<string[]> {
  return decodeSegment(await readFile(path)).records.map((r) => r.item.id);
}

beforeAll(() => buildServer(), 120_000);

describe('servers in different PID namespaces on one data directory', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const running: ChildServer[] = [];
  beforeAll(async () => {
    dir = await makeTempDir('shared-dir-');
  });
  afterAll(async () => {
    for (const s of running) await s.kill('SIGKILL');
    await dir?.remove();
  });

  itUnless(
    unshareUnavailable(),
    'a server starting beside a live one leaves its temporaries and journal alone; a dead one’s journal is replayed',
    async () => {
      const dataDir = join(dir.path, 'data');
      const a = await spawnServer(dataDir, ['--log-level', 'info'], { wrap: UNSHARE });
      running.push(a);
      const ca = await connect({ port: a.port });
      const sid = ca.welcome.serverId;
      expect(sid).toMatch(/-1$/); // PID 1 of its namespace, like a server in a container
      const acked: Receipt[] = [];
      for (let i = 0; i < 3; i++) acked.push(await ca.sendDict({ before: i }, { id: `before-${i}` }));
      const segment = join(dataDir, 'journal', `${sid}.1.log`);
      expect(await idsInSegment(segment)).toEqual(['before-0', 'before-1', 'before-2']);
      const segmentInode = (await stat(segment)).ino;
      // An upload under way: its temporary is live.
      const upload = await startUpload(a.port, 'slow-upload', 64 * 1024, 1024);
      const tempOf = async (): Promise<string[]> =>
        (await readdir(join(dataDir, 'tmp'))).filter((n) => n.startsWith(`${sid}.`));
      for (let i = 0; i < 200 && (await tempOf()).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const temps = await tempOf();
      expect(temps.length).toBe(1);

      // A second server, also PID 1 of its own namespace, on the same directory.
      const b = await spawnServer(dataDir, ['--log-level', 'info'], { wrap: UNSHARE });
      running.push(b);
      expect(await tempOf()).toEqual(temps);
      expect(existsSync(segment)).toBe(true);
      expect((await stat(segment)).ino).toBe(segmentInode);
      expect(b.stderr()).not.toContain('restored acknowledged items');

      // The first server goes on acknowledging into files that exist.
      upload.write(Buffer.concat(encodeFrame(FrameKind.Data, Buffer.alloc(64 * 1024 - 1024, 5))));
      upload.write(
        encodeControlFrame({
          type: 'file_end',
          id: 'slow-upload',
          bytes: 64 * 1024,
          sha256: sha256(Buffer.alloc(64 * 1024, 5)),
        }),
      );
      expect(
        await upload.until(() => upload.messages.some((m) => m.type === 'receipt' || m.type === 'error'), 10_000),
      ).toBe(true);
      const fileReceipt = upload.messages.find((m) => m.type === 'receipt') as Receipt | undefined;
      expect(fileReceipt).toMatchObject({ id: 'slow-upload', duplicate: false });
      acked.push(fileReceipt as Receipt);
      upload.socket.destroy();
      acked.push(await ca.sendDict({ after: true }, { id: 'after-b' }));
      expect(await idsInSegment(segment)).toEqual(['before-0', 'before-1', 'before-2', 'slow-upload', 'after-b']);
      await ca.close();

      // The first server dies (SIGKILL: no clean stop). A server in yet another namespace, where PID 1 is alive,
      // finds it dead all the same and replays its journal.
      await stopInner(a, 'SIGKILL');
      const c = await spawnServer(dataDir, ['--log-level', 'info']);
      running.push(c);
      expect(existsSync(segment)).toBe(false);
      let audit = await auditDataDir(dataDir);
      expect(audit.problems).toEqual([]);
      expect(checkAcknowledged(audit, acked)).toEqual([]);
      expect(audit.temps.filter((n) => n.startsWith(`${sid}.`))).toEqual([]);
      expect(existsSync(join(dataDir, 'locks', `${sid}.lock`))).toBe(false);

      await stopInner(b, 'SIGTERM');
      await c.kill('SIGTERM');
      audit = await auditDataDir(dataDir);
      expect(audit.problems).toEqual([]);
      expect(audit.journal).toEqual([]);
      expect(await readdir(join(dataDir, 'locks'))).toEqual([]);
    },
    60_000,
  );
});

describe('two servers in one process on one data directory (the same pid in both server ids)', () => {
  it('the second leaves the first’s live temporaries and journal alone', async () => {
    const dir = await makeTempDir('shared-dir-same-pid-');
    const a = await startTestServer({ dataDir: dir.path, output: 'file' });
    let b: Awaited<ReturnType<typeof startTestServer>> | undefined;
    try {
      const ca = await connect({ port: a.server.port });
      await ca.sendDict({ first: true }, { id: 'first' });
      const segment = join(dir.path, 'journal', `${a.server.serverId}.1.log`);
      expect(existsSync(segment)).toBe(true);
      const upload = await startUpload(a.server.port, 'open-upload', 4096, 100);
      const tempOf = async (): Promise<string[]> =>
        (await readdir(join(dir.path, 'tmp'))).filter((n) => n.startsWith(`${a.server.serverId}.`));
      for (let i = 0; i < 200 && (await tempOf()).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect((await tempOf()).length).toBe(1);

      b = await startTestServer({ dataDir: dir.path, output: 'file' });
      expect((await tempOf()).length).toBe(1);
      expect(existsSync(segment)).toBe(true);
      expect(b.logs().some((l) => l.msg === 'restored acknowledged items from the journal of a stopped server')).toBe(
        false,
      );
      const r = await ca.sendDict({ second: true }, { id: 'second' });
      expect(await idsInSegment(segment)).toEqual(['first', 'second']);
      expect(r.duplicate).toBe(false);
      upload.socket.destroy();
      await ca.close();
    } finally {
      await b?.server.close();
      await a.server.close();
      await dir.remove();
    }
  });
});

describe('where flock(1) is missing', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const running: ChildServer[] = [];
  beforeAll(async () => {
    dir = await makeTempDir('shared-dir-no-flock-');
  });
  afterAll(async () => {
    for (const s of running) await s.kill('SIGKILL');
    await dir.remove();
  });

  it('a server that could not lock is never taken for dead; deleting its lock file lets its journal be replayed', async () => {
    // A PATH holding only bash and node: no flock, no sync.
    const bin = join(dir.path, 'bin');
    await mkdir(bin);
    await symlink(execFileSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).trim(), join(bin, 'bash'));
    await symlink(process.execPath, join(bin, 'node'));
    const dataDir = join(dir.path, 'data');
    const a = await spawnServer(dataDir, ['--log-level', 'info'], { env: { PATH: bin } });
    running.push(a);
    expect(a.stderr()).toContain('flock(1) is not usable');
    const ca = await connect({ port: a.port });
    const sid = ca.welcome.serverId;
    const acked = await ca.sendDict({ unlocked: true }, { id: 'unlocked' });
    await startUpload(a.port, 'cut-by-kill', 4096, 100);
    const tempOf = async (): Promise<string[]> =>
      (await readdir(join(dataDir, 'tmp'))).filter((n) => n.startsWith(`${sid}.`));
    for (let i = 0; i < 200 && (await tempOf()).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await tempOf()).length).toBe(1);
    expect(JSON.parse(await readFile(join(dataDir, 'locks', `${sid}.lock`), 'utf8'))).toMatchObject({
      serverId: sid,
      held: 'none',
    });
    await a.kill('SIGKILL');

    // Dead, but nobody can know: a server with flock keeps everything of it, and says what to do.
    const b = await spawnServer(dataDir, ['--log-level', 'info']);
    running.push(b);
    expect(b.stderr()).toContain('cannot tell whether a server sharing the data directory runs');
    expect(existsSync(join(dataDir, 'journal', `${sid}.1.log`))).toBe(true);
    expect((await tempOf()).length).toBe(1);

    // The operator, knowing it stopped, deletes its lock file: `list` replays its journal.
    await rm(join(dataDir, 'locks', `${sid}.lock`));
    const listed = spawnSync(process.execPath, [MAIN_JS, 'list', '--json', '--data-dir', dataDir], {
      encoding: 'utf8',
    });
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain('"id":"unlocked"');
    expect(existsSync(join(dataDir, 'journal', `${sid}.1.log`))).toBe(false);
    const audit = await auditDataDir(dataDir);
    expect(audit.problems).toEqual([]);
    expect(checkAcknowledged(audit, [acked])).toEqual([]);
  }, 60_000);
});
