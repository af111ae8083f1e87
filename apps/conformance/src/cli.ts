/**
 * `pnpm conformance`: parses the flags, runs the server or the client cases, and prints the report (lines as
 * cases end, or one JSON document). Returns the exit code; only ./main.ts exits.
 */
import type { CaseResult, Section } from './case';
import { CLIENT_SECTIONS } from './client/sections';
import { runClientCases } from './client/run-client-cases';
import { parseOptions, USAGE, type Options } from './options';
import { caseLines, exitCodeOf, summarize, summaryLine, type Report } from './report';
import { picked } from './runner';
import { runServerCases } from './server/run-server-cases';
import { serverSections } from './server/sections';
import { readVectors, type Vectors } from './vectors';

export interface CliIo {
  argv: readonly string[];
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function runCli(io: CliIo): Promise<number> {
  const options = parseOptions(io.argv);
  if (options.mode === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  const vectors = readVectors(options.specDir);
  if (options.mode === 'list') {
    io.stdout.write(listing(options, vectors));
    return 0;
  }
  const startedAt = new Date();
  const onResult = options.json ? undefined : (r: CaseResult) => io.stdout.write(caseLines(r));
  let target: string;
  let results: CaseResult[];
  if (options.mode === 'server' && options.server) {
    target = `${options.server.host}:${options.server.port}`;
    if (!options.json) io.stdout.write(`conformance of the server at ${target} (docs/PROTOCOL.md)\n\n`);
    results = await runServerCases({
      options: options.server,
      answerMs: options.answerMs,
      only: options.only,
      vectors,
      ...(onResult ? { onResult } : {}),
    });
  } else {
    const client = options.client as NonNullable<Options['client']>;
    target = `dict: ${client.dictCommand}; file: ${client.fileCommand}`;
    if (!options.json) io.stdout.write(`conformance of the client\n  ${target}\n\n`);
    results = await runClientCases({
      commands: client,
      answerMs: options.answerMs,
      only: options.only,
      vectors,
      ...(options.specDir !== undefined ? { specDir: options.specDir } : {}),
      ...(onResult ? { onResult } : {}),
    });
  }
  const summary = summarize(results, Date.now() - startedAt.getTime());
  if (options.json) {
    const report: Report = {
      mode: options.mode === 'server' ? 'server' : 'client',
      target,
      startedAt: startedAt.toISOString(),
      results,
      summary,
    };
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    io.stdout.write(summaryLine(summary));
  }
  return exitCodeOf(summary);
}

/** The case lists, as `--list` prints them. */
function listing(options: Options, vectors: Vectors): string {
  const lists: [string, readonly Section<never>[]][] = [
    ['server cases (--server)', serverSections(vectors) as readonly Section<never>[]],
    ['client cases (--client-dict, --client-file)', CLIENT_SECTIONS as readonly Section<never>[]],
  ];
  const out: string[] = [];
  for (const [name, sections] of lists) {
    out.push(`${name}\n`);
    for (const section of sections) {
      const cases = section.cases.filter((c) => picked(c.id, options.only));
      if (cases.length === 0) continue;
      out.push(`\n  ${section.id} ${section.title}\n`);
      for (const c of cases) out.push(`  ${c.id.padEnd(9)} ${c.title}\n            ${c.spec}\n`);
    }
    out.push('\n');
  }
  return out.join('');
}
