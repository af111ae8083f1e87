/**
 * Where the person typed the command, so that the relative paths they give mean what they meant.
 *
 * `pnpm --filter client start send-file notes.txt` runs the program in the package's folder (apps/client), not in
 * the folder the person was in; pnpm says where that was in INIT_CWD. INIT_CWD is trusted only when the program
 * runs as one of its own package's scripts (npm_package_json names that package): a command installed on the PATH
 * and started from some other project's script must not resolve paths against that project's folder.
 */
import { dirname, resolve } from 'node:path';

export interface InvocationContext {
  env: NodeJS.ProcessEnv;
  /** The process's working directory. */
  cwd: string;
  /** The program's own package folder (the one holding its package.json). */
  packageDir: string;
}

/** The folder relative paths resolve against: INIT_CWD under one of the package's own scripts, else `cwd`. */
export function invocationDir({ env, cwd, packageDir }: InvocationContext): string {
  const init = env.INIT_CWD;
  const script = env.npm_package_json;
  if (init && script && resolve(dirname(script)) === resolve(packageDir)) return resolve(init);
  return cwd;
}

/** `path` resolved against `base`; `-` (standard input or output) stays as it is. */
export function resolvePath(base: string, path: string): string {
  return path === '-' ? path : resolve(base, path);
}
