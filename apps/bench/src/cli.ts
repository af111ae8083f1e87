/**
 * The command line of `pnpm bench`: parses the flags, runs the row groups, prints the table, and (full form)
 * writes it to docs/BENCHMARKS.md. Returns an exit code; only ./main.ts exits.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultSizes, ROW_GROUPS, type BenchConfig, type RowGroup } from './config';
import { describeMachine, machineLines } from './machine';
import { repoRoot, tempDir } from './paths';
import { BenchError } from './proc';
import { resultsSection, writeResults } from './report';
import { clusterRows } from './rows/cluster';
import { dictRows } from './rows/dicts';
import { fileRows } from './rows/files';
import { memoryRows } from './rows/memory';
import { resumeRows } from './rows/resume';
import { serializerRows } from './rows/serializers';
import { formatTable, type Row } from './table';
import { MiB } from './units';

/** The plot of the dictionary loads, next to docs/BENCHMARKS.md. */
export const PLOT_FILE = 'bench-dicts.svg';

export const USAGE = `Usage: pnpm bench [-- options]      (or: node apps/bench/dist/main.js [options])

Sets up its own servers in a temp directory, runs each benchmark against its baseline in the same run, and
prints one table. The full form (the default) also writes the table to docs/BENCHMARKS.md, and the plot of the
dictionary loads (1, 4, 16, 32 and 64 clients) to docs/bench-dicts.svg, which the page embeds.

Options:
  --quick              smaller sizes and shorter loads (128 MiB files, 2 s loads); under a minute; writes nothing
  --only <groups>      comma-separated: ${ROW_GROUPS.join(', ')}
  --file-mib <n>       size of the large file in MiB (default 1024, quick 128)
  --runs <n>           runs per file measurement, best kept (default 3, quick 1)
  --seconds <n>        measured seconds per dictionary load (default 10, quick 2)
  --no-write           do not update docs/BENCHMARKS.md
  --cpu-prof <dir>     run the servers under node --cpu-prof, profiles into <dir>
  --clients <list>     client counts of the dictionary loads, e.g. 1,4,16,32,64 (default; quick 1,32)
  --plot <file>        write the plot of the dictionary loads (SVG) to <file> (the full form: docs/bench-dicts.svg)
  -h, --help           this text
`;

export interface CliIo {
  argv: readonly string[];
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function runBench(io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...io.argv].filter((a) => a !== '--'),
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'file-mib': { type: 'string' },
      runs: { type: 'string' },
      seconds: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      clients: { type: 'string' },
      plot: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const quick = values.quick === true;
  const sizes = defaultSizes(quick);
  const only = values.only === undefined ? [...ROW_GROUPS] : values.only.split(',').map(parseGroup);
  if (values['file-mib'] !== undefined) sizes.fileBytes = positive(values['file-mib'], '--file-mib') * MiB;
  if (values.runs !== undefined) sizes.fileRuns = positive(values.runs, '--runs');
  if (values.seconds !== undefined) sizes.loadMs = positive(values.seconds, '--seconds') * 1000;
  if (values.clients !== undefined) sizes.concurrency = values.clients.split(',').map((n) => positive(n, '--clients'));
  const custom =
    values['file-mib'] !== undefined ||
    values.runs !== undefined ||
    values.seconds !== undefined ||
    values.clients !== undefined ||
    values.only !== undefined;
  // Only the full form, run whole with its default sizes, is the page's result.
  const write = !quick && !custom && values['no-write'] !== true;

  const work = await tempDir('run');
  const started = Date.now();
  const config: BenchConfig = {
    quick,
    ...sizes,
    only,
    ...(values['cpu-prof'] !== undefined ? { cpuProfDir: values['cpu-prof'] } : {}),
    ...(values.plot !== undefined
      ? { plotFile: values.plot }
      : write
        ? { plotFile: join(repoRoot(), 'docs', PLOT_FILE) }
        : {}),
    workDir: work.path,
    progress: (line) =>
      io.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`),
  };
  const machine = describeMachine();
  io.stderr.write(`${machineLines(machine).join('\n')}\n`);
  const rows: Row[] = [];
  try {
    if (only.includes('serializers')) rows.push(...serializerRows(config));
    if (only.includes('file') || only.includes('encrypted')) {
      rows.push(...(await fileRows(config, { file: only.includes('file'), encrypted: only.includes('encrypted') })));
    }
    if (only.includes('resume')) rows.push(...(await resumeRows(config)));
    if (only.includes('dicts')) rows.push(...(await dictRows(config)));
    if (only.includes('memory')) rows.push(...(await memoryRows(config)));
    if (only.includes('cluster')) rows.push(...(await clusterRows(config)));
  } finally {
    await work.remove();
  }
  const seconds = (Date.now() - started) / 1000;
  io.stdout.write(`\n${formatTable(rows)}\n\n`);
  io.stdout.write(
    `ratio = ours ÷ baseline: higher is better for rates, lower for latency and memory. ${quick ? 'Quick form' : 'Full form'}, ${seconds.toFixed(0)} s.\n`,
  );
  const missed = rows.filter((r) => r.met === false).map((r) => r.name);
  if (missed.length > 0) io.stdout.write(`Targets missed: ${missed.join('; ')} (docs/BENCHMARKS.md says why).\n`);
  if (write) {
    const file = join(repoRoot(), 'docs', 'BENCHMARKS.md');
    const command = 'pnpm bench';
    await writeResults(
      file,
      resultsSection(rows, machine, new Date(), command, only.includes('dicts') ? PLOT_FILE : undefined),
    );
    io.stdout.write(`Wrote the table to ${file}.\n`);
  }
  return 0;
}

function parseGroup(name: string): RowGroup {
  const trimmed = name.trim();
  if ((ROW_GROUPS as readonly string[]).includes(trimmed)) return trimmed as RowGroup;
  throw new BenchError('ERR_USAGE', `--only: expected some of ${ROW_GROUPS.join(', ')}, got ${JSON.stringify(name)}`);
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new BenchError('ERR_USAGE', `${flag}: expected a positive number, got ${JSON.stringify(text)}`);
  return n;
}
