/** The program's version, from its package.json (read at run time: tsc's rootDir keeps it out of dist). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function packageVersion(packageDir: string): string {
  try {
    const parsed = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
