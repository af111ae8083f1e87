/**
 * The golden vectors of spec/vectors, read for the tests that check them (docs/PROTOCOL.md §8; their format is
 * spec/README.md, "Vector files"): the dictionary vectors here, the wire vectors through @proj/test-utils.
 * Reading only: no check of our code lives here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SPEC_VECTORS_DIR, type Described } from '@proj/test-utils';

export { readWireVectors, wireBytes } from '@proj/test-utils';
export type { Described, Direction, VectorFrame, WireVector } from '@proj/test-utils';

/** The repository's spec/ folder: the vectors and the reshaping script. */
export const SPEC_DIR = join(__dirname, '..', '..', '..', 'spec');
export const VECTORS_DIR = SPEC_VECTORS_DIR;
/** The spec text itself. */
export const PROTOCOL_MD = join(__dirname, '..', '..', '..', 'docs', 'PROTOCOL.md');

export interface DictEncodingsVector extends Described {
  vector: 'dict-encodings';
  /** File holding the value, beside this one. */
  value: string;
  encodings: Record<'json' | 'xml' | 'protobuf', { file: string; bytes: number; sha256: string }>;
}

export interface DictDecodingCase {
  name: string;
  section: string;
  rule: string;
  format: 'json' | 'xml' | 'protobuf';
  text?: string;
  hex?: string;
  value?: unknown;
  code?: string;
}

export interface DictDecodingVector extends Described {
  vector: 'dict-decoding';
  cases: DictDecodingCase[];
}

export const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** The input bytes of a decoding case: its text as UTF-8, or its hex. */
export function caseBytes(c: DictDecodingCase): Uint8Array {
  if ((c.text === undefined) === (c.hex === undefined)) throw new Error(`${c.name}: give text or hex, not both`);
  return new Uint8Array(c.text !== undefined ? Buffer.from(c.text, 'utf8') : Buffer.from(c.hex as string, 'hex'));
}

/** Every file under spec/vectors (dotfiles left out), as paths relative to it with `/`. */
export function vectorFiles(dir = VECTORS_DIR): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...vectorFiles(path));
    else out.push(relative(VECTORS_DIR, path).split('\\').join('/'));
  }
  return out;
}
