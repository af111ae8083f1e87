/**
 * The journal: what a crash may lose of the files written without fsync comes back from it at the next start
 * (or at `list`), nothing unacknowledged comes back, and a clean stop leaves no segment behind.
 */
import { copyFile, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { connect, type Receipt } from '@proj/protocol';
import { makeTempDir, sha256Hex } from '@proj/test-utils';
import { runCli } from '../src/cli';
import { Journal } from '../src/store/journal';
import { encodeRecord, JOURNAL_MAGIC } from '../src/store/journal-record';
import { ServerLock } from '../src/store/liveness';
import { receiptText, type StoredItem } from '../src/store/receipts';
import { replayJournals } from '../src/store/recovery';
import { startTestServer } from './helpers';

const silent = pino({ level: 'silent' });
const DEAD = 'deadbeef-999999';

/** Every acknowledged item is in place: its bytes match its receipt, and its receipt file says the same. */
async function expectStored(dataDir: string, receipts: Receipt[]): Promise<void> {
  for (const r of receipts) {
    expect(sha256Hex(await readFile(join(dataDir, r.path)))).toBe(r.sha256);
    const file = JSON.parse(await readFile(join(dataDir, 'receipts', `${r.id}.json`), 'utf8')) as StoredItem;
    expect(file).toMatchObject({ id: r.id, path: r.path, sha256: r.sha256, bytes: r.bytes });
  }
}

/**
 * Stores a few items with a real server and returns their receipts with a copy of its journal taken before
 * the clean stop deleted it: the state a crash would have left, renamed as a dead process's segments.
 */
async function crashedRun(dataDir: string): Promise<{ receipts: Receipt[]; segments: Buffer[] }> {
  const t = await startTestServer({ dataDir, output: 'file' });
  const client = await connect({ port: t.server.port });
  const source = join(dataDir, '..', `${Date.now()}-source.txt`);
  await writeFile(source, 'a text file\n'.repeat(1000));
  const receipts = [
    await client.sendDict({ n: 1, nested: { ok: true } }, { id: 'dict-json', format: 'json' }),
    await client.sendDict({ n: 2, list: [1, 'two'] }, { id: 'dict-xml', format: 'xml' }),
    await client.sendDict({ n: 3 }, { id: 'dict-pb', format: 'protobuf' }),
    await client.sendDict({}, { id: 'dict-empty', format: 'protobuf' }),
    await client.sendFile(source, { id: 'file-1' }),
  ];
  await client.close();
  const journalDir = join(dataDir, 'journal');
  const segments: Buffer[] = [];
  for (const name of (await readdir(journalDir)).sort()) segments.push(await readFile(join(journalDir, name)));
  await t.server.close();
  await rm(source);
  expect(await readdir(journalDir)).toEqual([]);
  return { receipts, segments };
}

async function putBack(dataDir: string, segments: Buffer[]): Promise<void> {
  for (const [i, bytes] of segments.entries()) await writeFile(join(dataDir, 'journal', `${DEAD}.${i + 1}.log`), bytes);
}

describe('journal replay after a crash', () => {
  it('restores lost, emptied and damaged files and receipts of acknowledged items; a torn last record is ignored', async () => {
    const dir = await makeTempDir();
    try {
      const { receipts, segments } = await crashedRun(dir.path);
      expect(segments.length).toBeGreaterThan(0);
      const [json, xml, pb, empty, file] = receipts as [Receipt, Receipt, Receipt, Receipt, Receipt];
      // What writeback had not done when the power went: a missing item, an empty one, a missing receipt, a
      // receipt of zeros; the file's bytes and link were fsynced before its record, so they are there.
      await rm(join(dir.path, json.path));
      await truncate(join(dir.path, xml.path), 0);
      await rm(join(dir.path, 'receipts', 'dict-pb.json'));
      await writeFile(join(dir.path, 'receipts', 'dict-empty.json'), Buffer.alloc(40));
      await rm(join(dir.path, empty.path));
      await rm(join(dir.path, 'receipts', 'file-1.json'));
      // And a record that was being appended: torn, never acknowledged.
      const torn = encodeRecord({
        item: {
          ...(JSON.parse(await readFile(join(dir.path, 'receipts', 'dict-json.json'), 'utf8')) as StoredItem),
          id: 'torn',
          path: json.path.replace('dict-json', 'torn'),
        },
        data: Buffer.from('{}'),
      });
      await putBack(dir.path, [
        ...segments.slice(0, -1),
        Buffer.concat([segments.at(-1) as Buffer, torn.subarray(0, torn.length - 3)]),
      ]);

      const t = await startTestServer({ dataDir: dir.path, output: 'file' });
      try {
        await expectStored(dir.path, [json, xml, pb, empty, file]);
        expect(await readdir(join(dir.path, 'receipts'))).not.toContain('torn.json');
        expect(await readdir(join(dir.path, 'journal'))).toEqual([]);
        expect(
          t.logs().find((l) => l.msg === 'restored acknowledged items from the journal of a stopped server'),
        ).toMatchObject({ restored: 5 });
        // The restored receipts answer repeated puts as before.
        const client = await connect({ port: t.server.port });
        expect(
          await client.sendDict({ n: 1, nested: { ok: true } }, { id: 'dict-json', format: 'json' }),
        ).toMatchObject({ duplicate: true, path: json.path });
        await client.close();
      } finally {
        await t.server.close();
      }
    } finally {
      await dir.remove();
    }
  });

  it('`list` replays a stopped server’s journal before it lists', async () => {
    const dir = await makeTempDir();
    try {
      const { receipts, segments } = await crashedRun(dir.path);
      for (const r of receipts) await rm(join(dir.path, 'receipts', `${r.id}.json`));
      await putBack(dir.path, segments);
      const stdout = new PassThrough();
      let printed = '';
      stdout.on('data', (c: Buffer) => (printed += c.toString()));
      const code = await runCli({
        argv: ['list', '--data-dir', dir.path, '--json'],
        env: {},
        cwd: dir.path,
        defaultDataDir: dir.path,
        stdin: {},
        stdout,
        stderr: new PassThrough(),
        waitForSignal: () => new Promise(() => {}),
      });
      expect(code).toBe(0);
      expect(
        printed
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as StoredItem).id)
          .sort(),
      ).toEqual(receipts.map((r) => r.id).sort());
      await expectStored(dir.path, receipts);
      expect(await readdir(join(dir.path, 'journal'))).toEqual([]);
    } finally {
      await dir.remove();
    }
  });

  it('skips records another put of the id won, and file records whose file never became durable', async () => {
    const dir = await makeTempDir();
    try {
      const day = join(dir.path, 'items', '2026-11-25');
      for (const d of ['journal', 'receipts', 'tmp', 'locks']) await mkdir(join(dir.path, d), { recursive: true });
      await mkdir(day, { recursive: true });
      const base = {
        kind: 'dict' as const,
        format: 'json' as const,
        encrypted: false,
        receivedAt: '2026-11-25T12:00:00.000Z',
        sender: '127.0.0.1:1',
        serverId: DEAD,
      };
      const data = Buffer.from('{"x":1}');
      const mk = (id: string, path: string): StoredItem => ({
        ...base,
        id,
        path,
        bytes: data.length,
        sha256: sha256Hex(data),
      });
      const winner = mk('contested', 'items/2026-11-25/120000-cafebabe-1-contested-dict.json');
      await writeFile(join(dir.path, winner.path), data);
      await writeFile(join(dir.path, 'receipts', 'contested.json'), receiptText(winner));
      const lost = mk('contested', `items/2026-11-25/120000-${DEAD}-contested-dict.json`);
      const fileNeverLinked: StoredItem = {
        ...mk('file-x', `items/2026-11-25/120000-${DEAD}-file-x-r.txt`),
        kind: 'file',
      };
      const fresh = mk('fresh', `items/2026-11-25/120000-${DEAD}-fresh-dict.json`);
      const segment = Buffer.concat([
        JOURNAL_MAGIC,
        encodeRecord({ item: lost, data }),
        encodeRecord({ item: fileNeverLinked }),
        encodeRecord({ item: fresh, data }),
      ]);
      await writeFile(join(dir.path, 'journal', `${DEAD}.1.log`), segment);
      // A live process's segment is its own business (it holds its lock; the pid in its id means nothing).
      const live = 'cafebabe-1';
      const liveLock = ServerLock.acquire(dir.path, live, silent);
      await writeFile(join(dir.path, 'journal', `${live}.1.log`), segment);

      // The file-by-file flush (where `sync -f` is missing) does the job as well.
      expect(await replayJournals(dir.path, 'ffffffff-1', silent, 'fsync')).toEqual({ segments: 1, restored: 1 });
      expect((await readdir(day)).sort()).toEqual([
        '120000-cafebabe-1-contested-dict.json',
        `120000-${DEAD}-fresh-dict.json`,
      ]);
      expect((await readdir(join(dir.path, 'receipts'))).sort()).toEqual(['contested.json', 'fresh.json']);
      expect(JSON.parse(await readFile(join(dir.path, 'receipts', 'contested.json'), 'utf8'))).toEqual(winner);
      expect(await readFile(join(day, `120000-${DEAD}-fresh-dict.json`))).toEqual(data);
      expect(await readdir(join(dir.path, 'journal'))).toEqual([`${live}.1.log`]);
      // Replaying again changes nothing.
      await copyFile(join(dir.path, 'journal', `${live}.1.log`), join(dir.path, 'journal', `${DEAD}.2.log`));
      expect(await replayJournals(dir.path, 'ffffffff-1', silent)).toEqual({ segments: 1, restored: 0 });
      liveLock.release();
    } finally {
      await dir.remove();
    }
  });
});

describe('journal segments', () => {
  it('a next segment that cannot be prepared ahead is logged and made when needed', async () => {
    const dir = await makeTempDir();
    try {
      await mkdir(join(dir.path, 'journal'));
      // The name the second segment would take is in the way.
      await writeFile(join(dir.path, 'journal', 'abcdef01-1.2.log'), 'in the way');
      const warnings: string[] = [];
      const log = pino(
        { level: 'warn' },
        { write: (line: string) => warnings.push((JSON.parse(line) as { msg: string }).msg) },
      );
      const journal = new Journal(dir.path, 'abcdef01-1', log, { segmentBytes: 64, checkpointDelayMs: 60_000 });
      const item: StoredItem = {
        id: 'a',
        kind: 'dict',
        path: 'items/2026-11-25/120000-abcdef01-1-a-dict.json',
        bytes: 2,
        sha256: sha256Hex('{}'),
        encrypted: false,
        receivedAt: '',
        sender: '',
        serverId: 'abcdef01-1',
      };
      await journal.append([encodeRecord({ item, data: Buffer.from('{}') })]);
      await new Promise((r) => setTimeout(r, 50));
      await journal.append([encodeRecord({ item, data: Buffer.from('{}') })]);
      expect(warnings).toContain('could not prepare the next journal segment; trying again when it is needed');
      expect((await readdir(join(dir.path, 'journal'))).sort()).toEqual(
        expect.arrayContaining(['abcdef01-1.1.log', 'abcdef01-1.3.log']),
      );
      await journal.close();
    } finally {
      await dir.remove();
    }
  });

  it.each(['syncfs', 'fsync'] as const)(
    'are retired when full, checkpointed and deleted (%s flush); a clean close leaves none',
    async (flush) => {
      const dir = await makeTempDir();
      try {
        await mkdir(join(dir.path, 'journal'));
        const journal = new Journal(dir.path, 'abcdef01-1', silent, { segmentBytes: 1, checkpointDelayMs: 0, flush });
        const item: StoredItem = {
          id: 'a',
          kind: 'dict',
          path: 'items/2026-11-25/120000-abcdef01-1-a-dict.json',
          bytes: 2,
          sha256: sha256Hex('{}'),
          encrypted: false,
          receivedAt: '',
          sender: '',
          serverId: 'abcdef01-1',
        };
        for (let i = 0; i < 3; i++) await journal.append([encodeRecord({ item, data: Buffer.from('{}') })]);
        // Each append filled its segment: the first two are retired and, after their checkpoint, gone; the third
        // is current, and the next one may be prepared already.
        const left = async (): Promise<string[]> =>
          (await readdir(join(dir.path, 'journal'))).filter((n) => /\.[12]\.log$/.test(n));
        for (let i = 0; i < 100 && (await left()).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
        expect(await left()).toEqual([]);
        expect(await readdir(join(dir.path, 'journal'))).toContain('abcdef01-1.3.log');
        await journal.close();
        expect(await readdir(join(dir.path, 'journal'))).toEqual([]);
      } finally {
        await dir.remove();
      }
    },
  );
});
