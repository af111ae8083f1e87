/**
 * A wire vector of the repository's spec/vectors (docs/PROTOCOL.md §8; the file format is spec/README.md,
 * "Vector files"), read for the server's tests: its bytes and the envelopes of its control frames.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's spec/vectors folder. */
export const SPEC_VECTORS_DIR = join(__dirname, '..', '..', '..', 'spec', 'vectors');

export interface SpecWireVector {
  /** Every frame's bytes, concatenated. */
  bytes: Buffer;
  /** The envelopes of its control frames, in order (data frames left out). */
  messages: Record<string, unknown>[];
}

/** Reads `spec/vectors/<path>`, e.g. `sessions/client-to-server.json` or `frames/hello.json`. */
export function specWireVector(path: string): SpecWireVector {
  const v = JSON.parse(readFileSync(join(SPEC_VECTORS_DIR, path), 'utf8')) as {
    hex: string | string[];
    frames: Array<{ message?: Record<string, unknown> }>;
  };
  const hex = Array.isArray(v.hex) ? v.hex.join('') : v.hex;
  return {
    bytes: Buffer.from(hex, 'hex'),
    messages: v.frames.filter((f) => f.message !== undefined).map((f) => f.message as Record<string, unknown>),
  };
}
