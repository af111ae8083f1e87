/**
 * Client mode against our client: the library in-process (every case, the codes it raises checked too), and the
 * client program through the command driver (`node apps/client/dist/main.js send-dict …`), every case but 2.1,
 * whose one run per offset of the welcome takes minutes with a process per run.
 */
import type { CaseResult } from '../src/case';
import { runCli } from '../src/cli';
import { runClientCases } from '../src/client/run-client-cases';
import type { Report } from '../src/report';
import { readVectors } from '../src/vectors';
import { libraryDriver } from './library-driver';
import { CLIENT_MAIN } from './server-process';

const failed = (results: CaseResult[]): string[] =>
  results.filter((r) => r.outcome !== 'pass').map((r) => `${r.id} ${r.outcome}: ${r.title}: ${r.reason}`);

test('our client library passes every client case', async () => {
  const results = await runClientCases({ driver: libraryDriver, answerMs: 5000, only: [], vectors: readVectors() });
  expect(failed(results)).toEqual([]);
  expect(results.length).toBeGreaterThanOrEqual(20);
}, 300_000);

test('our client program passes the client cases through the command driver', async () => {
  const client = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLIENT_MAIN)}`;
  const common = '--host {host} --port {port} --id {id} --retries 2 --timeout 5';
  let text = '';
  const stdout = {
    write: (chunk: string): boolean => {
      text += chunk;
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const code = await runCli({
    argv: [
      '--client-dict',
      `${client} send-dict ${common} --format {format} --data-file {file}`,
      '--client-file',
      `${client} send-file ${common} {file}`,
      '--cases',
      '2.2,2.3,3,4,5',
      '--json',
    ],
    stdout,
    stderr: stdout,
  });
  const report = JSON.parse(text) as Report;
  expect(failed(report.results)).toEqual([]);
  expect(report.mode).toBe('client');
  expect(report.results.length).toBeGreaterThanOrEqual(18);
  expect(code).toBe(0);
}, 300_000);
