/**
 * The golden vectors of spec/vectors, read for the tests that check them (docs/PROTOCOL.md §8; their format is
 * spec/README.md, "Vector files"). Reading only: no check of our code lives here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The repository's spec/ folder: the vectors and the reshaping script. */
export const SPEC_DIR = join(__dirname, '..', '..', '..', 'spec');
export const VECTORS_DIR = join(SPEC_DIR, 'vectors');
/** The spec text itself. */
export const PROTOCOL_MD = join(__dirname, '..', '..', '..', 'docs', 'PROTOCOL.md');

/** One frame as a wire vector shows it: a control frame's envelope, or a data frame's payload in hex. */
export type VectorFrame = { kind: 1; message: Record<string, unknown> } | { kind: 2; payloadHex: string };

export type Direction = 'client-to-server' | 'server-to-client' | 'both';

/** Members every vector file has. */
export interface Described {
  vector: string;
  description: string;
  section: string;
}

export interface WireVector extends Described {
  vector: 'wire';
  direction: Direction;
  /** Lowercase hex, or several strings to concatenate (a session gives one frame per string). */
  hex: string | string[];
  frames: VectorFrame[];
}

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

/** The wire vectors of `group` (`frames` or `sessions`), by name. */
export function readWireVectors(group: 'frames' | 'sessions'): { name: string; vector: WireVector }[] {
  return readdirSync(join(VECTORS_DIR, group))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.slice(0, -5), vector: readJson<WireVector>(join(VECTORS_DIR, group, f)) }));
}

/** The bytes a wire vector stands for. */
export function wireBytes(vector: WireVector): Buffer {
  const hex = Array.isArray(vector.hex) ? vector.hex.join('') : vector.hex;
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error('vector hex must be pairs of lowercase hex digits');
  return Buffer.from(hex, 'hex');
}

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
