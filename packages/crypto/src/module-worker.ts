/**
 * Starts a worker thread running one of this package's modules, whether the package runs from its build (the
 * module is a .js file next to this one) or from its TypeScript sources under jest (the tests compile with
 * @swc/jest, which a worker thread does not go through: there the module is a .ts file, compiled on require with
 * @swc/core, the tests' own compiler and a root dev dependency). The server's dictionary decoders do the same
 * (apps/server/src/module-worker.ts); a package cannot import from an app, and a worker here needs no
 * workspace package, only this package's relative modules.
 */
import { extname, join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TS_BOOTSTRAP = `
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const { swc, entry } = workerData.tsBootstrap;
const { transformSync } = require(swc);
Module._extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require(entry);
`;

/** Starts a worker running the module `name` of this directory (no extension). */
export function startModuleWorker(name: string, options: WorkerOptions = {}): Worker {
  const ext = extname(__filename);
  const entry = join(__dirname, `${name}${ext}`);
  if (ext !== '.ts') return new Worker(entry, options);
  const tsBootstrap = { swc: require.resolve('@swc/core'), entry };
  return new Worker(TS_BOOTSTRAP, {
    ...options,
    eval: true,
    workerData: { ...(options.workerData as object | undefined), tsBootstrap },
  });
}
