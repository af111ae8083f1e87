/**
 * Starts a worker thread running one of this package's modules, whether the server runs from its build
 * (`node dist/main.js`: the module is a .js file next to this one) or from its TypeScript sources under jest
 * (the tests compile with @swc/jest, which a worker thread does not go through: there the module is a .ts file).
 */
import { extname, join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { holdHeapAfterWorkerStart } from './heap';

/**
 * The worker's code for a module given as a .ts file: compile TypeScript on require with @swc/core (the tests'
 * own compiler, a root dev dependency) and resolve workspace packages where the starting thread resolved them.
 * Under jest that is the sources (jest.config.base.js maps `@proj/*` and the `/wire` and `/dict` entries to
 * their `index.ts`), so a worker never runs a stale build.
 */
const TS_BOOTSTRAP = `
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const { swc, aliases, entry } = workerData.tsBootstrap;
const { transformSync } = require(swc);
Module._extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, Object.hasOwn(aliases, request) ? aliases[request] : request, ...rest);
};
require(entry);
`;

/**
 * Starts a worker running the module `name` (no extension) of this package's directory `dir` (relative to this
 * one: `store`). `packages` names the workspace packages the module imports, so that the worker loads the same
 * copy of them as this thread.
 */
export function startModuleWorker(
  dir: string,
  name: string,
  packages: readonly string[],
  options: WorkerOptions = {},
): Worker {
  const worker = start(dir, name, packages, options);
  // The new thread resets V8's flags as it starts: set the heap's again, now and once it runs (./heap.ts).
  holdHeapAfterWorkerStart();
  worker.once('online', holdHeapAfterWorkerStart);
  return worker;
}

function start(dir: string, name: string, packages: readonly string[], options: WorkerOptions): Worker {
  const ext = extname(__filename);
  const entry = join(__dirname, dir, `${name}${ext}`);
  if (ext !== '.ts') return new Worker(entry, options);
  const aliases: Record<string, string> = {};
  for (const p of packages) aliases[p] = require.resolve(p);
  const tsBootstrap = { swc: require.resolve('@swc/core'), aliases, entry };
  return new Worker(TS_BOOTSTRAP, {
    ...options,
    eval: true,
    workerData: { ...(options.workerData as object | undefined), tsBootstrap },
  });
}
