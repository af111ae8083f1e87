/**
 * The wire vectors of the repository's spec/vectors (docs/PROTOCOL.md §8; the file format is spec/README.md,
 * "Vector files"), read for the tests of every package: their bytes, and the frames they decode to.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's spec/vectors folder. */
export const SPEC_VECTORS_DIR = join(__dirname, '..', '..', '..', 'spec', 'vectors');

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
  /**
   * The capabilities the connection negotiated (§4, "Capabilities"): its envelopes are read as such a connection
   * reads them. Absent: none.
   */
  capabilities?: string[];
  /** Lowercase hex, or several strings to concatenate (a session gives one frame per string). */
  hex: string | string[];
  frames: VectorFrame[];
}

const readVector = (path: string): WireVector => JSON.parse(readFileSync(path, 'utf8')) as WireVector;

/** The wire vectors of `group` (`frames` or `sessions`), by name. */
export function readWireVectors(group: 'frames' | 'sessions'): { name: string; vector: WireVector }[] {
  return readdirSync(join(SPEC_VECTORS_DIR, group))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.slice(0, -5), vector: readVector(join(SPEC_VECTORS_DIR, group, f)) }));
}

/** The bytes a wire vector stands for. */
export function wireBytes(vector: WireVector): Buffer {
  const hex = Array.isArray(vector.hex) ? vector.hex.join('') : vector.hex;
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error('vector hex must be pairs of lowercase hex digits');
  return Buffer.from(hex, 'hex');
}

export interface SpecWireVector {
  /** Every frame's bytes, concatenated. */
  bytes: Buffer;
  /** The envelopes of its control frames, in order (data frames left out). */
  messages: Record<string, unknown>[];
}

/** Reads `spec/vectors/<path>`, e.g. `sessions/client-to-server.json` or `frames/hello.json`. */
export function specWireVector(path: string): SpecWireVector {
  const v = readVector(join(SPEC_VECTORS_DIR, path));
  return {
    bytes: wireBytes(v),
    messages: v.frames.flatMap((f) => (f.kind === 1 ? [f.message] : [])),
  };
}
