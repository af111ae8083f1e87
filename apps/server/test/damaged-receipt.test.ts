/**
 * Issue 11, fault 5: a damaged receipt (empty, cut short, corrupted) never makes a start remove the acknowledged
 * item. The next start rebuilds the receipt from the item where that is unambiguous and says how far the
 * rebuilt SHA-256 can be trusted; otherwise it keeps the receipt and the item and reports them, and `list`
 * shows them as damaged. Real servers, real files, `list` run as its own process.
 */
import { spawnSync } from 'node:child_process';
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type Receipt } from '@proj/protocol';
import { makeTempDir, sha256Hex } from '@proj/test-utils';
import type { StoredItem } from '../src/store/receipts';
import { startTestServer } from './helpers';
import { buildServer, MAIN_JS } from './reliability/harness';

beforeAll(() => buildServer(), 120_000);

function list(dataDir: string, json: boolean): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN_JS, 'list', '--data-dir', dataDir, ...(json ? ['--json'] : [])], {
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('damaged receipts', () => {
  it('keep their items; a start rebuilds what it can, reports the rest, and `list` shows both', async () => {
    const dir = await makeTempDir('damaged-receipt-');
    try {
      // A first run stores four items and stops cleanly.
      const first = await startTestServer({ dataDir: dir.path, output: 'file' });
      const c = await connect({ port: first.server.port });
      const fileBody = Buffer.from('a text file\n'.repeat(300));
      const source = join(dir.path, '..', `${Date.now()}-damaged-source.txt`);
      await writeFile(source, fileBody);
      const r: Record<string, Receipt> = {
        empty: await c.sendDict({ n: 1 }, { id: 'd-empty' }),
        cut: await c.sendFile(source, { id: 'f-cut' }),
        wrong: await c.sendDict({ n: 3 }, { id: 'd-wrong' }),
        ok: await c.sendDict({ n: 4 }, { id: 'd-ok' }),
      };
      await c.close();
      await first.server.close();
      await rm(source);
      const bytesOf: Record<string, Buffer> = {};
      for (const [k, rec] of Object.entries(r)) bytesOf[k] = await readFile(join(dir.path, rec.path));

      // The damage: an empty receipt; one cut just after its SHA-256; one that no longer parses and shows a
      // SHA-256 the item does not have.
      const receipt = (id: string): string => join(dir.path, 'receipts', `${id}.json`);
      await truncate(receipt('d-empty'), 0);
      const cutText = await readFile(receipt('f-cut'), 'utf8');
      await writeFile(receipt('f-cut'), cutText.slice(0, cutText.indexOf('\n', cutText.indexOf('"sha256"')) + 1));
      await writeFile(receipt('d-wrong'), `{\n  "id": "d-wrong",\n  "sha256": "${'0'.repeat(64)}",\n  "pa\u0000\u0000`);

      // The next start.
      const second = await startTestServer({ dataDir: dir.path, output: 'file' });
      try {
        for (const [k, rec] of Object.entries(r))
          expect(sha256Hex(await readFile(join(dir.path, rec.path)))).toBe(sha256Hex(bytesOf[k] as Buffer));
        const rebuiltEmpty = JSON.parse(await readFile(receipt('d-empty'), 'utf8')) as StoredItem;
        expect(rebuiltEmpty).toMatchObject({
          id: 'd-empty',
          kind: 'dict',
          format: 'json',
          path: r.empty?.path,
          bytes: r.empty?.bytes,
          sha256: r.empty?.sha256,
          rebuilt: { shaFrom: 'item' },
        });
        const rebuiltCut = JSON.parse(await readFile(receipt('f-cut'), 'utf8')) as StoredItem;
        expect(rebuiltCut).toMatchObject({
          id: 'f-cut',
          kind: 'file',
          path: r.cut?.path,
          bytes: fileBody.length,
          sha256: sha256Hex(fileBody),
          rebuilt: { shaFrom: 'receipt' },
        });
        expect(await readFile(receipt('d-wrong'), 'utf8')).toContain('"pa\u0000');
        const logged = second.logs();
        expect(
          logged
            .filter((l) => l.msg === 'rebuilt a damaged receipt from its item')
            .map((l) => l.id)
            .sort(),
        ).toEqual(['d-empty', 'f-cut']);
        expect(logged.find((l) => String(l.msg).startsWith('damaged receipt: kept as it is'))).toMatchObject({
          id: 'd-wrong',
          items: [r.wrong?.path],
        });
        expect(logged.some((l) => l.msg === 'removing an unacknowledged item')).toBe(false);
        // A retry of a rebuilt id is answered from the rebuilt receipt.
        const again = await connect({ port: second.server.port });
        expect(await again.sendDict({ n: 1 }, { id: 'd-empty' })).toMatchObject({
          duplicate: true,
          path: r.empty?.path,
          sha256: r.empty?.sha256,
        });
        await again.close();
      } finally {
        await second.server.close();
      }

      // `list`: the rebuilt ones as items, the other as damaged, with its item.
      const json = list(dir.path, true);
      expect(json.status).toBe(0);
      expect(json.stderr).toContain('1 damaged receipt');
      const lines = json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(
        lines
          .filter((l) => !l.damaged)
          .map((l) => l.id)
          .sort(),
      ).toEqual(['d-empty', 'd-ok', 'f-cut']);
      expect(lines.find((l) => l.damaged)).toMatchObject({ id: 'd-wrong', items: [r.wrong?.path] });
      const table = list(dir.path, false);
      expect(table.status).toBe(0);
      expect(table.stdout).toMatch(/\?\s+damaged\s+\?\s+\?\s+d-wrong\s+\?\s+damaged\s+items\//);
      expect(table.stdout).toContain('3 items, 2 with a rebuilt receipt, 1 damaged receipt');

      // And a start after that still keeps the item of the damaged receipt.
      const third = await startTestServer({ dataDir: dir.path, output: 'file' });
      await third.server.close();
      expect(sha256Hex(await readFile(join(dir.path, r.wrong?.path as string)))).toBe(
        sha256Hex(bytesOf.wrong as Buffer),
      );
    } finally {
      await dir.remove();
    }
  });
});
