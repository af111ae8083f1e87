/**
 * §4 "Notices" against our server started with --ask: nobody answers its question (standard input is not a
 * terminal), so each put waits for the approval timeout and is rejected; the case that needs pending-notice
 * negotiated, skipped by ./our-server.test.ts, runs here, and every case of §4.19 passes.
 */
import type { Report } from '../src/report';
import { runCli } from '../src/cli';
import { startServerProcess, type ServerProcess } from './server-process';

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess(['--ask', '--approval-timeout', '1s']);
});

afterAll(async () => {
  await server?.stop();
});

test('§4.19 passes against a server that asks its operator', async () => {
  let text = '';
  const write = (chunk: string): boolean => {
    text += chunk;
    return true;
  };
  const stream = { write } as unknown as NodeJS.WritableStream;
  const code = await runCli({
    argv: ['--server', `${server.host}:${server.port}`, '--cases', '4.19', '--max-wait', '5000', '--json'],
    stdout: stream,
    stderr: stream,
  });
  const report = JSON.parse(text) as Report;
  expect(report.results.map((r) => [r.id, r.outcome, r.reason ?? ''])).toEqual([
    ['4.19.1', 'pass', ''],
    ['4.19.2', 'pass', ''],
  ]);
  expect(code).toBe(0);
}, 60_000);
