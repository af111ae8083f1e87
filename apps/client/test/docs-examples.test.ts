/**
 * docs/CLIENT.md section 10 ("The library") stays true: every ```ts block there is type-checked with the
 * compiler against the packages' sources, then compiled and run with node (against the built packages) as a
 * program of its own, against a real server, in a temporary directory. An example that no longer compiles, throws,
 * or exits non-zero fails here.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '@proj/test-utils';
import * as ts from 'typescript';
import { CLIENT_DIR, startTestServer, type TestServer } from './helpers/harness';

const ROOT = join(CLIENT_DIR, '..', '..');

/** The ```ts blocks of the library section, in order. */
async function examples(): Promise<string[]> {
  const text = await readFile(join(ROOT, 'docs', 'CLIENT.md'), 'utf8');
  const section = text.slice(text.indexOf('## 10. The library'));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

/** The block as a module: its imports first, the rest in `main()` (top-level await is not CommonJS). */
function asModule(block: string): string {
  const lines = block.split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const body = lines.filter((l) => !l.startsWith('import '));
  return [
    ...imports,
    'export async function main(): Promise<void> {',
    ...body.map((l) => `  ${l}`),
    '}',
    'main().catch((err: unknown) => {',
    '  console.error(err);',
    '  process.exit(1);',
    '});',
    '',
  ].join('\n');
}

const compilerOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
  types: ['node'],
  typeRoots: [join(ROOT, 'node_modules', '@types')],
  strict: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: true,
  esModuleInterop: true,
  noEmit: true,
  baseUrl: ROOT,
  paths: {
    '@proj/protocol': ['packages/protocol/src/index.ts'],
    '@proj/crypto': ['packages/crypto/src/index.ts'],
  },
};

let server: TestServer;
let work: { path: string; remove: () => Promise<void> };
let blocks: string[];

beforeAll(async () => {
  server = await startTestServer();
  work = await makeTempDir('client-doc-examples-');
  blocks = await examples();
});
afterAll(async () => {
  await server.close();
  await server.removeDir();
  await work.remove();
});

test('the library section has an example per feature', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(8);
});

test('every example type-checks against the packages', async () => {
  const files = await Promise.all(
    blocks.map(async (block, i) => {
      const path = join(work.path, `example-${i + 1}.ts`);
      await writeFile(path, asModule(block));
      return path;
    }),
  );
  const program = ts.createProgram(files, compilerOptions);
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || files.includes(d.file.fileName))
    .map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const name = d.file ? d.file.fileName.slice(work.path.length + 1) : '';
      return `${name}:${where ? where.line + 1 : '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  expect(problems).toEqual([]);
}, 120_000);

test('every example runs against a real server and exits 0', async () => {
  for (const [i, block] of blocks.entries()) {
    const js = ts.transpileModule(asModule(block), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true },
    }).outputText;
    const path = join(work.path, `example-${i + 1}.js`);
    await writeFile(path, js);
    const child = spawn(process.execPath, [path], {
      cwd: work.path,
      // The client's node_modules resolve @proj/protocol and @proj/crypto to the built packages.
      env: { ...process.env, NODE_PATH: join(CLIENT_DIR, 'node_modules'), PROJ_PORT: String(server.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
    // An example that hangs is killed and reported like one that fails.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    if (code !== 0) throw new Error(`example ${i + 1} exited ${code}:\n${output}\n--- source:\n${block}`);
  }
}, 120_000);
