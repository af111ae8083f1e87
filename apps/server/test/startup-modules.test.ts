/**
 * What a running server carries (docs/BENCHMARKS.md, "Memory"; ./heap.ts): a `serve` that asks nothing loads no
 * prompt library, no pretty printer, no metrics library, no age implementation, no protobuf or XML library, no
 * NATS client and no HTTP server, before and after it has served a dictionary and a file; and its young generation
 * stays at its first size. The built program runs as its own process, with a preloaded reporter
 * (./startup/loaded-modules.cjs).
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { connect } from '@proj/protocol';
import { makeTempDir } from '@proj/test-utils';
import { budgetGiven, semiSpaceGiven } from '../src/heap';
import { waitFor } from './helpers';

const APP = resolve(__dirname, '..');
const MAIN = join(APP, 'dist', 'main.js');
const REPORTER = join(__dirname, 'startup', 'loaded-modules.cjs');

/** Packages a server that asks nothing, serves no metrics and stores locally must not load. */
const NOT_LOADED = [
  'enquirer',
  'pino-pretty',
  'prom-client',
  'age-encryption',
  '@noble',
  'protobufjs',
  'xmlbuilder2',
  '@nats-io',
  'zod',
];
/** Built-in modules likewise: node:http only serves --metrics. */
const BUILTINS_NOT_LOADED = ['http'];
/**
 * The server's own modules a `serve` on the data directory does not use: the JetStream backend (required for a
 * `nats://` store only, ../src/store/open-store.ts) and the operator's item commands (required when one runs,
 * ../src/commands/item-commands.ts).
 */
const OWN_NOT_LOADED = [
  join('dist', 'store', 'jetstream', 'jetstream-store.js'),
  join('dist', 'store', 'jetstream', 'object-sink.js'),
  join('dist', 'commands', 'list.js'),
  join('dist', 'commands', 'show.js'),
  join('dist', 'commands', 'cat.js'),
  join('dist', 'commands', 'rm.js'),
  join('dist', 'commands', 'prune.js'),
];

interface Report {
  files: string[];
  builtins: string[];
  newSpaceBytes: number;
}

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b'], { cwd: APP, stdio: 'inherit' });
}, 120_000);

let tmp: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir('server-startup-');
});
afterEach(async () => {
  await tmp.remove();
});

function packagesIn(files: readonly string[]): string[] {
  return NOT_LOADED.filter((name) => files.some((f) => f.includes(`/node_modules/${name}`)));
}

function ownModulesIn(files: readonly string[]): string[] {
  return OWN_NOT_LOADED.filter((tail) => files.some((f) => f === join(APP, tail)));
}

describe('a serve that asks nothing', () => {
  it('loads only what it uses, before and after a dictionary and a file, with a young generation kept small', async () => {
    const out = join(tmp.path, 'loaded.json');
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      ['-r', REPORTER, MAIN, 'serve', '--no-prompt', '-H', '127.0.0.1', '-p', '0', '-d', join(tmp.path, 'data')],
      { env: { ...process.env, LOADED_MODULES_OUT: out, INIT_CWD: '', npm_package_json: '' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const report = async (): Promise<Report> => {
      await writeFile(out, '');
      child.kill('SIGUSR2');
      await waitFor(async () => (await readFile(out, 'utf8')) !== '', 10_000);
      return JSON.parse(await readFile(out, 'utf8')) as Report;
    };
    try {
      await waitFor(() => /listening on \S+:\d+/.test(stdout) || child.exitCode !== null, 30_000);
      const port = Number(/listening on \S+:(\d+)/.exec(stdout)?.[1]);
      if (!port) throw new Error(`the server did not start:\n${stdout}\n${stderr}`);

      const atRest = await report();
      expect(atRest.files.some((f) => f.endsWith(join('server', 'dist', 'main.js')))).toBe(true);
      expect(packagesIn(atRest.files)).toEqual([]);
      expect(ownModulesIn(atRest.files)).toEqual([]);
      expect(BUILTINS_NOT_LOADED.filter((b) => atRest.builtins.includes(b))).toEqual([]);

      const file = join(tmp.path, 'sample.bin');
      await writeFile(file, Buffer.alloc(3 * 1024 * 1024, 7));
      const client = await connect({ host: '127.0.0.1', port });
      await client.sendDict({ hello: 'world' });
      const receipt = await client.sendFile(file, { name: 'sample.bin' });
      expect(receipt.bytes).toBe(3 * 1024 * 1024);
      await client.close();

      const served = await report();
      expect(packagesIn(served.files)).toEqual([]);
      expect(ownModulesIn(served.files)).toEqual([]);
      expect(BUILTINS_NOT_LOADED.filter((b) => served.builtins.includes(b))).toEqual([]);
      // 1 MiB per semi-space, two of them (./heap.ts): V8's default would have grown it to 16 MiB each by now.
      expect(served.newSpaceBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    } finally {
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    }
  }, 60_000);
});

describe('the heap settings (heap.ts)', () => {
  it('leave the young generation to a semi-space size the operator gave node', () => {
    expect(semiSpaceGiven(['--max-semi-space-size=4'], '')).toBe(true);
    expect(semiSpaceGiven([], '--trace-gc --max_semi_space_size=4')).toBe(true);
    expect(semiSpaceGiven(['--min-semi-space-size=2'], '')).toBe(true);
    expect(semiSpaceGiven(['--max-old-space-size=512'], '--trace-gc')).toBe(false);
  });

  it('leave the optimization budget to one the operator gave node', () => {
    expect(budgetGiven(['--interrupt-budget=1000'], '')).toBe(true);
    expect(budgetGiven([], '--trace-gc --interrupt_budget=1000')).toBe(true);
    expect(budgetGiven([], '--interrupt-budget 1000')).toBe(true);
    expect(budgetGiven(['--interrupt-budget-for-feedback-allocation=8'], '')).toBe(false);
    expect(budgetGiven(['--max-old-space-size=512'], '--trace-gc')).toBe(false);
  });
});

describe('a worker thread the server starts (module-worker.ts)', () => {
  it('does not let the young generation grow again: its start puts V8 flags back, and the setting is made again', () => {
    // The program's settings (heap.ts), then the thread that writes items' files (store/materialiser.ts), then
    // enough short-lived garbage for V8 to grow the young generation if it may.
    const script = `
      const v8 = require('node:v8');
      require(${JSON.stringify(join(APP, 'dist', 'heap.js'))}).tuneHeap();
      const { startModuleWorker } = require(${JSON.stringify(join(APP, 'dist', 'module-worker.js'))});
      const worker = startModuleWorker('store', 'materialise-worker', [], { workerData: { materialiser: true } });
      worker.once('online', async () => {
        await worker.terminate();
        let keep = [];
        for (let i = 0; i < 3e6; i++) { keep.push({ i }); if (keep.length > 1000) keep = []; }
        const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
        process.stdout.write(String(space.space_size));
      });`;
    const newSpaceBytes = Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    expect(newSpaceBytes).toBeGreaterThan(0);
    expect(newSpaceBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});
