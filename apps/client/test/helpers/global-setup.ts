import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Compiles the client (and the packages it references) so tests can run `node dist/main.js`. */
export default function globalSetup(): void {
  const root = join(__dirname, '..', '..');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b'], { cwd: root, stdio: 'inherit' });
}
