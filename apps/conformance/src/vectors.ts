/**
 * The golden vectors of spec/vectors (docs/PROTOCOL.md §8; the format is spec/README.md, "Vector files"), read
 * and checked for shape, for the cases that send them to a server or play them to a client.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DictFormat } from '@proj/protocol/dict';

/** The repository's spec/ folder, from src/ (jest) and from dist/ alike. */
export const DEFAULT_SPEC_DIR = join(__dirname, '..', '..', '..', 'spec');

export type VectorFrame = { kind: 1; message: Record<string, unknown> } | { kind: 2; payloadHex: string };

export interface WireVector {
  description: string;
  section: string;
  direction: 'client-to-server' | 'server-to-client' | 'both';
  /** The bytes. */
  bytes: Buffer;
  /** Each frame's bytes, in order. */
  frameBytes: Buffer[];
  frames: VectorFrame[];
}

export interface DictSample {
  /** The encoded sample in each format. */
  encodings: Record<DictFormat, Buffer>;
}

export interface DecodingCase {
  name: string;
  section: string;
  rule: string;
  format: DictFormat;
  bytes: Buffer;
  /** The code the body must be refused with; undefined when it must be accepted. */
  code?: string;
}

export interface Vectors {
  frames: Map<string, WireVector>;
  sessions: Map<string, WireVector>;
  sample: DictSample;
  decoding: DecodingCase[];
}

/** A vector file that does not have the documented shape. */
export class VectorError extends Error {
  readonly code = 'ERR_VECTOR';
}

const readJson = (path: string): Record<string, unknown> => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new VectorError(`cannot read the vector ${path}: ${(cause as Error).message}`, { cause });
  }
};

function hexBytes(hex: unknown, where: string): Buffer {
  if (typeof hex !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(hex)) throw new VectorError(`${where}: hex expected`);
  return Buffer.from(hex, 'hex');
}

function readWire(path: string): WireVector {
  const v = readJson(path);
  if (v.vector !== 'wire' || !Array.isArray(v.frames)) throw new VectorError(`${path}: not a wire vector`);
  const pieces = Array.isArray(v.hex) ? v.hex : [v.hex];
  const bytes = Buffer.concat(pieces.map((h) => hexBytes(h, path)));
  const frameBytes: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const end = at + 5 + bytes.readUInt32BE(at);
    frameBytes.push(bytes.subarray(at, end));
    at = end;
  }
  return {
    description: String(v.description),
    section: String(v.section),
    direction: v.direction as WireVector['direction'],
    bytes,
    frameBytes,
    frames: v.frames as VectorFrame[],
  };
}

function readWireDir(dir: string): Map<string, WireVector> {
  const out = new Map<string, WireVector>();
  for (const f of readdirSync(dir).sort()) {
    if (f.endsWith('.json')) out.set(f.slice(0, -5), readWire(join(dir, f)));
  }
  return out;
}

function readSample(dir: string): DictSample {
  const v = readJson(join(dir, 'sample.vector.json'));
  const encodings = v.encodings as Record<DictFormat, { file: string }> | undefined;
  if (v.vector !== 'dict-encodings' || !encodings) throw new VectorError(`${dir}/sample.vector.json: bad shape`);
  const read = (format: DictFormat): Buffer => readFileSync(join(dir, encodings[format].file));
  return { encodings: { json: read('json'), xml: read('xml'), protobuf: read('protobuf') } };
}

function readDecoding(path: string): DecodingCase[] {
  const v = readJson(path);
  if (v.vector !== 'dict-decoding' || !Array.isArray(v.cases)) throw new VectorError(`${path}: bad shape`);
  return (v.cases as Record<string, unknown>[]).map((c) => ({
    name: String(c.name),
    section: String(c.section),
    rule: String(c.rule),
    format: c.format as DictFormat,
    bytes: typeof c.text === 'string' ? Buffer.from(c.text, 'utf8') : hexBytes(c.hex, `${path} ${String(c.name)}`),
    ...(typeof c.code === 'string' ? { code: c.code } : {}),
  }));
}

/** Reads every vector under `specDir`/vectors. */
export function readVectors(specDir = DEFAULT_SPEC_DIR): Vectors {
  const dir = join(specDir, 'vectors');
  return {
    frames: readWireDir(join(dir, 'frames')),
    sessions: readWireDir(join(dir, 'sessions')),
    sample: readSample(join(dir, 'dict')),
    decoding: readDecoding(join(dir, 'dict', 'decoding.json')),
  };
}

/** The vector `name` of `map`, or a VectorError naming what is missing. */
export function vector(map: Map<string, WireVector>, name: string): WireVector {
  const v = map.get(name);
  if (!v) throw new VectorError(`the vector ${name} is missing from spec/vectors`);
  return v;
}
