/**
 * A screen nobody reads (issue 11, fault 7; docs/RELIABILITY.md). The server's standard output and standard error
 * are pipes whose reader stopped reading right after the "listening" line. The screen is a view, not a queue: the
 * server shows what the pipe takes, skips the rest (every item is stored all the same) and says so once the
 * reader catches up; its memory stays flat and it never stops acknowledging. Before the fix, every pretty-printed
 * dictionary waited in memory for the pipe (RSS 125 to 445 MiB for 40 dictionaries of 1 MiB), and a full stderr
 * pipe froze the whole server inside a synchronous log write.
 *
 * The server runs as a child process so that its RSS (/proc/<pid>/status) is its own.
 */
import { connect } from '@proj/protocol';
import { encodeDict, type Dict } from '@proj/protocol/dict';
import { makeTempDir } from '@proj/test-utils';
import { auditDataDir, buildServer, recordFigures, scale, sleep, spawnServer, type ChildServer } from './harness';

const DICTS = scale(100, 200);
/**
 * The ceilings asserted. Before the fix RSS grew ~2.4 MiB per dictionary of this shape (72 to 381 MiB for 100).
 * Decoding one dictionary of 60,000 nodes peaks at 150-210 MiB with the screen out of the picture (`--output file`,
 * stdout read), so the absolute ceiling sits above that, and the sharper test is the growth: the mean RSS over
 * the last 20 dictionaries against the mean over dictionaries 10 to 29 (by then the decoder's peak is reached).
 */
const CEILING_MiB = 256;
const GROWTH_MiB = 48;

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * A dictionary just under the 1 MiB limit, dense with small nodes, so that its pretty print (what the screen
 * used to queue whole) is several times its encoded size. Its `notes` come first and fill the screen's whole
 * block for an item (8 KiB of three-byte characters, docs/SERVER.md §3), so that what the server shows of the
 * dictionaries outgrows the pipe and the backlog and the screen has to skip.
 */
function bigDict(seed: number): Dict {
  const rows: Dict[] = [];
  const notes = Array.from({ length: 30 }, () => '€'.repeat(160));
  const dict: Dict = { seed, notes, rows };
  for (let i = 0; ; i++) {
    rows.push({ i, name: `n${i}`, ok: i % 2 === 0 });
    if (i % 1000 === 0 && encodeDict(dict, 'json').length > 1000 * 1000) {
      rows.splice(-1000);
      return dict;
    }
  }
}

/** Stops reading a child's pipe: its data stays in the kernel and the child's own buffers. */
function stopReading(stream: NodeJS.ReadableStream | null): void {
  if (!stream) return;
  stream.removeAllListeners('data');
  stream.pause();
}

describe('a screen nobody reads', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let server: ChildServer | undefined;
  beforeAll(() => buildServer(), 180_000);
  beforeEach(async () => {
    dir = await makeTempDir('slow-screen-');
  });
  afterEach(async () => {
    await server?.kill('SIGKILL');
    server = undefined;
    await dir.remove();
  });

  test(`${DICTS} dictionaries of 1 MiB with stdout and stderr unread: all acknowledged, RSS flat and under ${CEILING_MiB} MiB, the skip said`, async () => {
    const s = await spawnServer(dir.path, ['--output', 'both', '--log-level', 'info']);
    server = s;
    stopReading(s.child.stdout);
    stopReading(s.child.stderr);
    const before = s.memory();
    const dict = bigDict(1);
    const bytes = encodeDict(dict, 'json');
    expect(bytes.length).toBeLessThanOrEqual(1024 * 1024);

    // One client, one dictionary at a time: several decoded at once add a peak of the decoder's own.
    const client = await connect({ port: s.port, timeoutMs: 30_000 });
    const rssMiB: number[] = [];
    try {
      for (let i = 0; i < DICTS; i++) {
        const receipt = await client.sendDictBytes(bytes, { format: 'json', id: `big-${i}` });
        expect(receipt).toMatchObject({ id: `big-${i}`, bytes: bytes.length });
        rssMiB.push(s.memory().rssKiB / 1024);
      }
    } finally {
      await client.close();
    }
    await sleep(500);
    const after = s.memory();
    const early = mean(rssMiB.slice(10, 30));
    const late = mean(rssMiB.slice(-20));
    recordFigures('slow-screen', {
      dicts: DICTS,
      dictBytes: bytes.length,
      rssBeforeMiB: Math.round(before.rssKiB / 1024),
      rssEarlyMiB: Math.round(early),
      rssLateMiB: Math.round(late),
      peakMiB: Math.round(after.hwmKiB / 1024),
    });
    expect(s.child.exitCode).toBeNull();
    expect(late - early).toBeLessThan(GROWTH_MiB);
    expect(after.hwmKiB / 1024).toBeLessThan(CEILING_MiB);

    // Once someone reads again, the server says what it did not show.
    let shown = '';
    s.child.stdout?.on('data', (c: Buffer) => (shown += c.toString()));
    s.child.stdout?.resume();
    s.child.stderr?.resume();
    const deadline = Date.now() + 20_000;
    while (!/\(screen behind: \d+ items? (and \d+ other lines? )?not shown/.test(shown) && Date.now() < deadline)
      await sleep(50);
    expect(shown).toMatch(/\(screen behind: \d+ items? (and \d+ other lines? )?not shown/);

    // Every item is stored, shown or not (audited after a clean stop: ./harness.ts auditDataDir).
    await s.kill('SIGTERM');
    const audit = await auditDataDir(dir.path);
    expect(audit.problems).toEqual([]);
    expect(audit.receipts).toBe(DICTS);
  }, 240_000);

  test('standard error unread: the server keeps answering while its log falls behind, and its memory stays flat', async () => {
    const s = await spawnServer(dir.path, ['--output', 'file', '--log-level', 'info']);
    server = s;
    stopReading(s.child.stdout);
    stopReading(s.child.stderr);
    const before = s.memory();
    // Each session logs a few lines; a few thousand sessions fill any pipe many times over.
    const sessions = scale(3000, 10_000);
    const started = Date.now();
    for (let i = 0; i < sessions; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, j) => {
          const client = await connect({ port: s.port, timeoutMs: 10_000 });
          await client.sendDict({ i: i + j }, { id: `s-${i + j}` });
          await client.close();
        }),
      );
    }
    const seconds = (Date.now() - started) / 1000;
    const after = s.memory();
    recordFigures('slow-stderr', {
      sessions,
      seconds,
      rssBeforeMiB: Math.round(before.rssKiB / 1024),
      peakMiB: Math.round(after.hwmKiB / 1024),
    });
    expect(s.child.exitCode).toBeNull();
    expect(after.hwmKiB / 1024).toBeLessThan(CEILING_MiB);

    // Once someone reads again, the log says how many lines it dropped.
    let logged = '';
    s.child.stderr?.on('data', (c: Buffer) => (logged += c.toString()));
    s.child.stderr?.resume();
    s.child.stdout?.resume();
    const deadline = Date.now() + 20_000;
    while (!logged.includes('log lines dropped') && Date.now() < deadline) await sleep(50);
    const warning = logged
      .split('\n')
      .filter((l) => l.includes('log lines dropped'))
      .map((l) => JSON.parse(l) as { level: number; dropped: number })[0];
    expect(warning).toMatchObject({ level: 40, dropped: expect.any(Number) });
    expect(warning?.dropped).toBeGreaterThan(0);

    await s.kill('SIGTERM');
    const audit = await auditDataDir(dir.path);
    expect(audit.problems).toEqual([]);
    expect(audit.receipts).toBe(sessions);
  }, 240_000);
});
