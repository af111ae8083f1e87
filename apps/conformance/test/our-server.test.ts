/**
 * The kit against our server, run as a real process with the limits and timeouts that let every case run (a
 * token, short timeouts, small per-address and waiting limits, a small maxFileBytes): every case passes but the
 * known disagreements between docs/PROTOCOL.md and the server today, which must fail (so that the list shrinks as
 * they are fixed). Through the command line's own entry, with --json.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '@proj/test-utils';
import { ExitCode, type Report } from '../src/report';
import { runCli } from '../src/cli';
import { startServerProcess, type ServerProcess } from './server-process';

/**
 * Cases written as the spec says that our server does not follow today (issue #13): the lead reconciles them.
 * Each must fail here; once the server or the spec changes, take it off this list.
 */
// Cases where the spec and our server disagree, each naming the issue that settles it; none today.
const KNOWN_DISAGREEMENTS: Record<string, string> = {};

/** Cases that need a server asking an operator (--ask): they skip here and run in ./notices.test.ts. */
const NEEDS_ASK = ['4.19.2'];

const TOKEN = 'conformance-token';
const FLAGS = {
  idle: '2500',
  transfer: '1000',
  handshake: '1000',
  perAddress: '12',
  pending: '4',
};

let server: ServerProcess;
let dir: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  dir = await makeTempDir('proj-conformance-token-');
  await writeFile(join(dir.path, 'token'), `${TOKEN}\n`);
  server = await startServerProcess([
    '--token-file',
    join(dir.path, 'token'),
    '--idle-timeout',
    `${FLAGS.idle}ms`,
    '--transfer-timeout',
    `${FLAGS.transfer}ms`,
    '--handshake-timeout',
    `${FLAGS.handshake}ms`,
    '--max-per-address',
    FLAGS.perAddress,
    '--max-pending',
    FLAGS.pending,
    '--max-file-bytes',
    '2MiB',
  ]);
});

afterAll(async () => {
  await server?.stop();
  await dir?.remove();
});

function output(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const write = (chunk: string): boolean => {
    text += chunk;
    return true;
  };
  const stream = { write } as unknown as NodeJS.WritableStream;
  return { stream, text: () => text };
}

test('every case passes against our server, but the known disagreements', async () => {
  const out = output();
  const err = output();
  const code = await runCli({
    argv: [
      '--server',
      `${server.host}:${server.port}`,
      '--token-file',
      join(dir.path, 'token'),
      '--handshake-timeout',
      FLAGS.handshake,
      '--transfer-timeout',
      FLAGS.transfer,
      '--max-per-address',
      FLAGS.perAddress,
      '--max-pending',
      FLAGS.pending,
      '--json',
    ],
    stdout: out.stream,
    stderr: err.stream,
  });
  const report = JSON.parse(out.text()) as Report;
  const notPassed = report.results.filter((r) => r.outcome !== 'pass' && !NEEDS_ASK.includes(r.id));
  expect(report.results.filter((r) => NEEDS_ASK.includes(r.id)).map((r) => [r.id, r.outcome])).toEqual(
    NEEDS_ASK.map((id) => [id, 'skip']),
  );
  const unexpected = notPassed.filter((r) => !(r.id in KNOWN_DISAGREEMENTS) || r.outcome !== 'fail');
  expect(unexpected.map((r) => `${r.id} ${r.outcome}: ${r.title}: ${r.reason}`)).toEqual([]);
  // A known disagreement that passes now was fixed: take it off the list.
  expect(notPassed.map((r) => r.id).sort()).toEqual(Object.keys(KNOWN_DISAGREEMENTS).sort());
  for (const r of notPassed) expect(r.reconcile).toMatch(/issue #13/);
  expect(report.summary).toMatchObject({ total: report.results.length, skipped: NEEDS_ASK.length });
  expect(report.results.length).toBeGreaterThan(200);
  // The cases that need --ask skip here: the run reports skips (ExitCode.Skipped) unless something failed.
  expect(code).toBe(notPassed.length > 0 ? ExitCode.Failed : ExitCode.Skipped);
}, 300_000);
