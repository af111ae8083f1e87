/**
 * Issue 11, fault 11: `ERR_STORAGE` means nothing stored, also after a crash. On a full disk with one page free,
 * a dictionary's item fits and its journal record is made durable (in a segment allocated beforehand), then its
 * receipt does not fit: the put is answered ERR_STORAGE. The server is then SIGKILLed and started again: replay
 * must not bring the refused dictionary back (it used to). The receipt is created before the acknowledgement
 * only while another process shares the data directory (docs/SERVER.md §5), so the test puts a second lock
 * beside the server's. Alone, the server acknowledges the put once its journal record is durable and writes the
 * files after: on the same full disk the put is stored, and a crash brings it back (the second test). A small
 * tmpfs is mounted for the full disk (root only; skipped with the reason elsewhere).
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '@proj/protocol';
import { decodeSegment } from '../../src/store/journal-record';
import {
  auditDataDir,
  buildServer,
  checkAcknowledged,
  fillToTheByte,
  itWithTmpfs,
  mountTmpfs,
  spawnServer,
  tmpfsUnavailable,
  type ChildServer,
} from './harness';

describe('ERR_STORAGE after the journal record was durable', () => {
  let unmount: (() => void) | undefined;
  let server: ChildServer | undefined;
  beforeAll(() => {
    if (tmpfsUnavailable() === undefined) buildServer();
  }, 120_000);
  afterAll(async () => {
    await server?.kill('SIGKILL');
    unmount?.();
  });

  itWithTmpfs(
    'is not undone by a crash: the refused dictionary is not there after replay, and a retry stores it',
    async () => {
      const fs = await mountTmpfs('storage-error-');
      unmount = fs.unmount;
      const mountPoint = fs.path;
      const dataDir = join(mountPoint, 'data');
      server = await spawnServer(dataDir, ['--log-level', 'info']);
      const c = await connect({ port: server.port });
      const sid = c.welcome.serverId;
      // Stored first: the journal's first segment is allocated while there is room.
      const kept = await c.sendDict({ kept: true }, { id: 'kept' });

      // Another process's lock (a stopped server's, as far as this one can tell): the directory is shared.
      await writeFile(join(dataDir, 'locks', '0badc0de-1.lock'), '{}\n');
      // Fill the file system, then free one page.
      const [page] = (await fillToTheByte(mountPoint, 1)).pages as [string];
      await rm(page);

      // The item takes the page, the journal record goes into the segment's allocated blocks, the receipt fails.
      const refused = await c.sendDict({ refused: 'x'.repeat(100) }, { id: 'refused' }).then(
        () => 'stored',
        (e: { code?: string }) => e.code,
      );
      expect(refused).toBe('ERR_STORAGE');
      // The scenario of the fault: the refused put's record was durable in the journal when it was refused.
      const segment = await readFile(join(dataDir, 'journal', `${sid}.1.log`));
      expect(decodeSegment(segment).records.map((r) => r.item.id)).toEqual(['kept', 'refused']);
      await c.close().catch(() => undefined);

      // A crash, room again, a restart: replay.
      await server.kill('SIGKILL');
      await rm(join(mountPoint, 'filler'));
      server = await spawnServer(dataDir, ['--log-level', 'info']);
      const audit = await auditDataDir(dataDir);
      expect(audit.problems).toEqual([]);
      expect(audit.byId.has('refused')).toBe(false);
      expect(checkAcknowledged(audit, [kept])).toEqual([]);
      expect(audit.receipts).toBe(1);
      expect(audit.items).toBe(1);
      expect(await readdir(join(dataDir, 'journal'))).not.toContain(`${sid}.1.log`);

      // The client took ERR_STORAGE at its word: its retry stores the dictionary, once.
      const again = await connect({ port: server.port });
      expect(await again.sendDict({ refused: 'x'.repeat(100) }, { id: 'refused' })).toMatchObject({ duplicate: false });
      await again.close();
      await server.kill('SIGTERM');
      server = undefined;
      const after = await auditDataDir(dataDir);
      expect(after.problems).toEqual([]);
      expect(after.receipts).toBe(2);
    },
    60_000,
  );

  itWithTmpfs(
    'alone, the put is acknowledged once its record is durable; its files, not written for want of room, come back after a crash',
    async () => {
      const fs = await mountTmpfs('storage-alone-');
      const mountPoint = fs.path;
      try {
        const dataDir = join(mountPoint, 'data');
        server = await spawnServer(dataDir, ['--log-level', 'info']);
        const c = await connect({ port: server.port });
        const kept = await c.sendDict({ kept: true }, { id: 'kept' });
        await fillToTheByte(mountPoint, 1);
        const full = await c.sendDict({ full: 'x'.repeat(100) }, { id: 'full' });
        expect(full).toMatchObject({ id: 'full', duplicate: false });
        // Its retry is answered from memory: the same receipt.
        expect(await c.sendDict({ full: 'x'.repeat(100) }, { id: 'full' })).toMatchObject({
          path: full.path,
          duplicate: true,
        });
        await c.close().catch(() => undefined);

        await server.kill('SIGKILL');
        await rm(join(mountPoint, 'filler'), { recursive: true, force: true });
        server = await spawnServer(dataDir, ['--log-level', 'info']);
        await server.kill('SIGTERM');
        server = undefined;
        const audit = await auditDataDir(dataDir);
        expect(audit.problems).toEqual([]);
        expect(checkAcknowledged(audit, [kept, full])).toEqual([]);
        expect(audit.receipts).toBe(2);
      } finally {
        await server?.kill('SIGKILL');
        server = undefined;
        fs.unmount();
      }
    },
    60_000,
  );

  itWithTmpfs(
    'alone, files not written for want of room are written once room is back, before a clean stop deletes the journal',
    async () => {
      const fs = await mountTmpfs('storage-retry-');
      try {
        const dataDir = join(fs.path, 'data');
        server = await spawnServer(dataDir, ['--log-level', 'info']);
        const c = await connect({ port: server.port });
        await c.sendDict({ warm: true }, { id: 'warm' });
        await fillToTheByte(fs.path, 1);
        const full = await c.sendDict({ full: 'y'.repeat(100) }, { id: 'full' });
        await c.close().catch(() => undefined);
        await rm(join(fs.path, 'filler'), { recursive: true, force: true });
        // A clean stop: the checkpoint tries the writes again, then deletes the segment.
        await server.kill('SIGTERM');
        server = undefined;
        const audit = await auditDataDir(dataDir);
        expect(audit.problems).toEqual([]);
        expect(checkAcknowledged(audit, [full])).toEqual([]);
        expect(audit.journal).toEqual([]);
      } finally {
        await server?.kill('SIGKILL');
        server = undefined;
        fs.unmount();
      }
    },
    60_000,
  );
});
