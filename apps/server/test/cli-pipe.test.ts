/**
 * Issue 11, fault 3: the CLI flushes everything it prints before it exits, also into a pipe whose reader is slow
 * (`server list --json | slow-reader` used to print 208 of 800 lines and exit 0: process.exit with writes queued).
 * Real processes and a real pipe: bash runs `node dist/main.js list … | { sleep 1; cat; }`, so the whole listing
 * is written while nobody reads.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '@proj/test-utils';
import { receiptText, type StoredItem } from '../src/store/receipts';
import { buildServer, MAIN_JS } from './reliability/harness';

const ITEMS = 800;

beforeAll(() => buildServer(), 120_000);

/** A data directory with ITEMS receipts (`list` reads receipts only). */
async function dataDirWithItems(dir: string): Promise<void> {
  await mkdir(join(dir, 'receipts'), { recursive: true });
  for (let i = 0; i < ITEMS; i++) {
    const id = `item-${String(i).padStart(4, '0')}`;
    const item: StoredItem = {
      id,
      kind: 'dict',
      path: `items/2026-01-02/120000-0badcafe-1-${id}-dict.json`,
      bytes: 100 + i,
      sha256: 'ab'.repeat(32),
      format: 'json',
      encrypted: false,
      receivedAt: `2026-01-02T12:00:00.${String(i % 1000).padStart(3, '0')}Z`,
      sender: '127.0.0.1:50000',
      serverId: '0badcafe-1',
    };
    await writeFile(join(dir, 'receipts', `${id}.json`), receiptText(item));
  }
}

/** `server list <args>` into a reader that starts reading a second later; its output and list's exit status. */
function listThroughSlowPipe(args: string[]): { lines: string[]; status: number | null; stderr: string } {
  const quoted = [process.execPath, MAIN_JS, 'list', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['-c', `set -o pipefail; ${quoted} | { sleep 1; cat; }`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { lines: r.stdout.split('\n').filter(Boolean), status: r.status, stderr: r.stderr };
}

describe('`server list` into a slow pipe', () => {
  let dir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    dir = await makeTempDir('list-pipe-');
    await dataDirWithItems(dir.path);
  });
  afterAll(async () => {
    await dir.remove();
  });

  it(`--json: all ${ITEMS} lines arrive, exit 0`, () => {
    const { lines, status, stderr } = listThroughSlowPipe(['--json', '--data-dir', dir.path]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(lines.length).toBe(ITEMS);
    expect(lines.map((l) => (JSON.parse(l) as StoredItem).id)).toEqual(
      Array.from({ length: ITEMS }, (_, i) => `item-${String(i).padStart(4, '0')}`),
    );
  });

  it('the table: every row and the count line arrive, exit 0', () => {
    const { lines, status } = listThroughSlowPipe(['--data-dir', dir.path]);
    expect(status).toBe(0);
    expect(lines.length).toBe(ITEMS + 2);
    // The receipts are made up, without items: each is listed as missing.
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^${ITEMS} items, ${ITEMS} missing`));
  });
});

describe('help into a pipe', () => {
  it('`serve --help` into a reader that goes away exits 0 without an EPIPE crash', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${MAIN_JS}" serve --help | true`], {
      encoding: 'utf8',
    });
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|Error/);
    expect(r.status).toBe(0);
  });
});
