/**
 * The session grammar of the fuzz suite (fuzz.test.ts, docs/RELIABILITY.md §1): seeded, so a seed always gives
 * the same bytes. Each session records its steps with their byte ranges and, where the bytes alone tell it, what
 * the server owes each one (a put's answer, a pong, the welcome, `bye`), so a run can check every answer, also of
 * a session cut short by the client's FIN or dripped below the minimum rate.
 */
import { FRAME_HEADER_BYTES, FrameKind } from '@proj/protocol/wire';
import { encodeDict } from '@proj/protocol/dict';
import {
  brokenEnvelope,
  brokenHello,
  ctl,
  dataFrame,
  framingLie,
  HOSTILE_NAMES,
  hostileDictBody,
  paddedDict,
  randomDict,
  seededBytes,
  UNUSABLE_NAMES,
  wrongOrder,
} from './fuzz-grammar';
import { Rng, sha256 } from './harness';

/**
 * The fuzz server's limits. Mid-transfer only the minimum rate judges a client (its bytes keep the idle timer
 * off), so a dripping sender gets ERR_TOO_SLOW whatever the idle timeout.
 */
export const LIMITS = {
  maxFrameBytes: 64 * 1024,
  maxDictBytes: 32 * 1024,
  maxDictDepth: 16,
  maxFileBytes: 256 * 1024,
  handshakeTimeoutMs: 700,
  idleTimeoutMs: 700,
  transferTimeoutMs: 700,
  // Every session here writes at memory speed: the slowest legitimate one is orders of magnitude above this.
  minRateBytesPerSec: 1024,
  // All fuzz clients come from 127.0.0.1, many at once, each closing as the next one connects.
  maxConnectionsPerAddress: 1024,
};

/**
 * `ping`: the session is written whole, then a final ping (or it ended with `bye`). `half-close`: the first `cut`
 * bytes are written, then the client shuts down its writing side. `drip`: the first `drip.at` bytes are written
 * at once, the rest a few bytes (or one frame) every DRIP_TICK_MS, far below the minimum rate.
 */
export type Mode = 'ping' | 'half-close' | 'drip';

export const DRIP_TICK_MS = 100;

export interface Step {
  what: string;
  /** Its bytes in Session.bytes. */
  start: number;
  end: number;
  /**
   * False when what the step does to the session cannot be told from its bytes (it may end the session, or make
   * the server read what follows differently): the exact checks stop at the first such step.
   */
  predictable: boolean;
  kind: 'hello' | 'put' | 'ping' | 'bye' | 'other';
  /** A put's id: once the whole step has arrived, it is owed one answer (a receipt or a non-fatal error). */
  id?: string;
  /** The put's answer may come before its last byte (a refusal in the middle of its data). */
  early?: boolean;
  /** How its body was framed (for the figures). */
  framing?: Framing;
}

export interface Session {
  seed: number;
  mode: Mode;
  steps: Step[];
  bytes: Buffer;
  /** Offsets where a frame ends (and 0), in order, up to the first unpredictable step. */
  frameEnds: number[];
  frames: number;
  /** Puts valid in every field, by id: what their receipt must say. */
  valid: Map<string, { sha256: string; bytes: number }>;
  /** Bytes written before the FIN (`half-close`). */
  cut: number;
  /** Bytes written at once, then the rest dripped, a frame per tick or a few bytes (`drip`). */
  drip?: { at: number; wholeFrames: boolean };
}

export type Framing = 'chunks' | 'one-byte' | 'one-byte+empty' | 'tiny';

/** In one-byte framings, at most this much of a body goes one byte per frame (the rest in chunks), for speed. */
const ONE_BYTE_WINDOW = 16 * 1024;

/** The bytes of a session as they are generated, with its steps. */
export class Builder {
  readonly parts: Buffer[] = [];
  readonly steps: Step[] = [];
  readonly valid = new Map<string, { sha256: string; bytes: number }>();
  length = 0;
  frames = 0;

  constructor(
    readonly rng: Rng,
    readonly seed: number,
  ) {}

  /** Appends `b`, holding `n` frames (counted for the figures). */
  push(b: Buffer, n = 1): void {
    this.parts.push(b);
    this.length += b.length;
    this.frames += n;
  }

  id(): string {
    return `s${this.seed.toString(36)}-${this.parts.length}-${this.rng.int(0, 1e6)}`;
  }

  /** Records a step that began at `start` and ends here. */
  step(start: number, what: string, fields: Omit<Step, 'start' | 'end' | 'what'>): void {
    this.steps.push({ start, end: this.length, what, ...fields });
  }

  /** How a put's body will be framed: usually chunks, often one byte per frame (with or without empty frames). */
  framing(): Framing {
    const r = this.rng.next();
    return r < 0.15 ? 'one-byte' : r < 0.22 ? 'one-byte+empty' : r < 0.27 ? 'tiny' : 'chunks';
  }

  /**
   * A body as data frames: chunks of up to 40,000 bytes; or one byte per frame (half of them after an empty
   * frame, with `one-byte+empty`); or frames of 0 to 16 bytes (`tiny`). Small framings cover the whole body, or a
   * `window` of it when it is larger (and chunks the rest).
   */
  body(body: Buffer, framing: Framing, window = ONE_BYTE_WINDOW): void {
    const { rng } = this;
    const chunks = (from: number, to: number): void => {
      for (let off = from; off < to; ) {
        const n = Math.min(to - off, rng.int(1, 40_000));
        this.push(dataFrame(body.subarray(off, off + n)));
        off += n;
      }
    };
    if (framing === 'chunks') {
      chunks(0, body.length);
      return;
    }
    const from = body.length <= window ? 0 : rng.int(0, body.length - window);
    const to = Math.min(body.length, from + window);
    // One PRNG draw a frame would cost more than the rest of the generator: the choices come from seeded bytes.
    const draws = seededBytes(rng, 2 * (to - from));
    const sizes: number[] = [];
    for (let off = from, i = 0; off < to; i++) {
      const d = draws[i] ?? 2; // past the draws (all of them empty frames so far): one or two bytes a frame
      const n = framing === 'tiny' ? Math.min(to - off, d % 17) : framing === 'one-byte+empty' && d & 1 ? 0 : 1;
      sizes.push(n);
      off += n;
    }
    chunks(0, from);
    this.#smallFrames(body.subarray(from, to), sizes);
    chunks(to, body.length);
  }

  /** `bytes` as data frames of the given payload sizes, written into one buffer (cheaper than a buffer a frame). */
  #smallFrames(bytes: Buffer, sizes: number[]): void {
    const out = Buffer.alloc(bytes.length + FRAME_HEADER_BYTES * sizes.length);
    let off = 0;
    let from = 0;
    for (const n of sizes) {
      out.writeUInt32BE(n, off);
      out[off + 4] = FrameKind.Data;
      bytes.copy(out, off + FRAME_HEADER_BYTES, from, from + n);
      off += FRAME_HEADER_BYTES + n;
      from += n;
    }
    this.push(out, sizes.length);
  }

  validDict(
    format: 'json' | 'xml' | 'protobuf',
    body: Buffer,
    what: string,
    framing = this.framing(),
    id = this.id(),
    window = ONE_BYTE_WINDOW,
  ): string {
    const start = this.length;
    this.push(ctl({ type: 'put_dict', id, format, bytes: body.length }));
    this.body(body, framing, window);
    this.valid.set(id, { sha256: sha256(body), bytes: body.length });
    this.step(start, `${what} ${format} ${body.length} (${framing})`, { predictable: true, kind: 'put', id, framing });
    return id;
  }

  validFile(body: Buffer, name: string, what: string, framing = this.framing()): string {
    const start = this.length;
    const id = this.id();
    this.push(ctl({ type: 'put_file', id, name, ...(this.rng.bool() ? { size: body.length } : {}) }));
    this.body(body, framing);
    this.push(ctl({ type: 'file_end', id, bytes: body.length, sha256: sha256(body) }));
    const usable = !UNUSABLE_NAMES.has(name);
    if (usable) this.valid.set(id, { sha256: sha256(body), bytes: body.length });
    this.step(start, `${what} ${body.length} name=${JSON.stringify(name.slice(0, 20))} (${framing})`, {
      predictable: usable,
      kind: 'put',
      id,
      framing,
    });
    return id;
  }

  ping(nonce?: string): void {
    const start = this.length;
    if (nonce !== undefined) this.push(ctl({ type: 'ping', nonce }));
    else this.push(ctl({ type: 'ping', ...(this.rng.bool() ? { nonce: 'n'.repeat(this.rng.int(0, 64)) } : {}) }));
    this.step(start, nonce !== undefined ? 'final ping' : 'ping', { predictable: true, kind: 'ping' });
  }

  /** Pushes bytes that are a step on their own, with no answer owed. */
  other(what: string, predictable: boolean, ...frames: Array<Buffer | [Buffer, number]>): void {
    const start = this.length;
    for (const f of frames) Array.isArray(f) ? this.push(f[0], f[1]) : this.push(f);
    this.step(start, what, { predictable, kind: 'other' });
  }

  session(mode: Mode, cut: number, drip?: Session['drip']): Session {
    const bytes = Buffer.concat(this.parts);
    return {
      seed: this.seed,
      mode,
      steps: this.steps,
      bytes,
      frameEnds: this.frameEnds(bytes),
      frames: this.frames,
      valid: this.valid,
      cut,
      ...(drip ? { drip } : {}),
    };
  }

  /** Where frames end (and 0), read from the headers up to the first unpredictable step (after it, bytes may lie). */
  frameEnds(bytes = Buffer.concat(this.parts)): number[] {
    const limit = this.steps.find((s) => !s.predictable)?.start ?? bytes.length;
    const ends = [0];
    for (let off = 0; off + FRAME_HEADER_BYTES <= limit; ) {
      off += FRAME_HEADER_BYTES + bytes.readUInt32BE(off);
      if (off > limit) break;
      ends.push(off);
    }
    return ends;
  }
}

/** Steps drawn below this share of the unit interval can be checked exactly (most of them); the rest cannot. */
const PREDICTABLE_SHARE = 0.79;

/**
 * The session for `seed`. `drip` makes it a dripping sender; otherwise 35 % of sessions are half-closed and the
 * rest end with a ping (or `bye`). A half-closed session draws mostly steps whose answers can be told, so that
 * the checks of what a FIN owes apply to many of them.
 */
export function generate(seed: number, drip = false): Session {
  const rng = new Rng(seed);
  const b = new Builder(rng, seed);
  if (drip) return dripping(b);
  const mode: Mode = rng.bool(0.35) ? 'half-close' : 'ping';
  hello(b, mode === 'half-close' ? 0.9 : 0.8);
  const nSteps = rng.int(1, 6);
  for (let s = 0; s < nSteps; s++) drawStep(b, mode === 'half-close' && rng.bool(0.85) ? PREDICTABLE_SHARE : 1);
  if (mode === 'ping') {
    if (rng.bool(0.1)) bye(b);
    else b.ping(finalNonce(seed));
    return b.session(mode, b.length);
  }
  const ending = rng.next();
  if (ending >= 0.3 && ending < 0.75) b.ping();
  if (ending >= 0.55) bye(b);
  // The FIN: after everything, at a frame boundary, or at any byte (mostly inside a frame, often inside a put).
  const r = rng.next();
  const cut = r < 0.35 ? b.length : r < 0.6 ? rng.pick(b.frameEnds()) : rng.int(0, b.length);
  return b.session(mode, cut);
}

/** The nonce of a `ping` session's final ping: its pong ends the session. */
export function finalNonce(seed: number): string {
  return `end-${seed}`;
}

function bye(b: Builder): void {
  const start = b.length;
  b.push(ctl({ type: 'bye' }));
  b.step(start, 'bye', { predictable: true, kind: 'bye' });
}

/** The hello: valid with probability `pValid`, otherwise broken (the session's end cannot be told then). */
function hello(b: Builder, pValid: number): void {
  const { rng } = b;
  const start = b.length;
  if (rng.next() < pValid) {
    b.push(
      ctl({ type: 'hello', version: 1, ...(rng.bool(0.3) ? { agent: 'fuzz', capabilities: ['x', 'resume'] } : {}) }),
    );
    b.step(start, 'hello', { predictable: true, kind: 'hello' });
    return;
  }
  const broken = brokenHello(rng);
  b.other(broken[0], false, broken[1]);
}

/** One step; `share` < 1 keeps to the steps whose answers can be told (most of them). */
function drawStep(b: Builder, share: number): void {
  const { rng } = b;
  const r = rng.next() * share;
  if (r < 0.18) {
    const format = rng.pick(['json', 'xml', 'protobuf'] as const);
    b.validDict(format, Buffer.from(encodeDict(randomDict(rng), format)), 'valid dict');
  } else if (r < 0.32) {
    // A valid file put, sent without waiting for ready (the server reads frames in order).
    const name = rng.bool(0.5) ? rng.pick(HOSTILE_NAMES) : `file-${rng.int(0, 99)}.bin`;
    b.validFile(seededBytes(rng, rng.int(0, 100_000)), name, 'valid file');
  } else if (r < 0.45) {
    const { format, body, what } = hostileDictBody(rng);
    const id = b.id();
    const lie = rng.next();
    const declared =
      lie < 0.8 ? body.length : lie < 0.9 ? body.length + rng.int(1, 100) : Math.max(0, body.length - rng.int(1, 100));
    const framing = b.framing();
    const start = b.length;
    b.push(ctl({ type: 'put_dict', id, format, bytes: declared }));
    b.body(body, framing);
    // Refused as a whole once its declared bytes arrive, unless it lies about them or is over the limit (fatal).
    const predictable = declared === body.length && declared <= LIMITS.maxDictBytes;
    b.step(start, `hostile dict: ${what}, declared ${declared} of ${body.length} (${framing})`, {
      predictable,
      kind: 'put',
      id,
      framing,
    });
  } else if (r < 0.58) {
    // A file put with a lie: wrong checksum, wrong count, size exceeded, 10 GiB declared, an offset, over the limit.
    const body = seededBytes(rng, rng.int(1, 50_000));
    const id = b.id();
    const kind = rng.int(0, 5);
    const size = kind === 2 ? body.length - 1 : kind === 3 ? 10 * 1024 * 1024 * 1024 : undefined;
    const framing = b.framing();
    const start = b.length;
    b.push(
      ctl({
        type: 'put_file',
        id,
        name: 'lie.bin',
        ...(size !== undefined ? { size } : {}),
        ...(kind === 4 ? { offset: 5 } : {}),
      }),
    );
    b.body(body, framing);
    if (kind === 5) b.body(seededBytes(rng, 300_000), framing);
    const sum = kind === 0 ? sha256(Buffer.from('other')) : sha256(body);
    b.push(ctl({ type: 'file_end', id, bytes: kind === 1 ? body.length + 1 : body.length, sha256: sum }));
    // Refused before `ready` (kinds 3, 4), its data frames end the session; refused in its data (2, 5), the
    // answer comes before file_end and the rest is skipped.
    b.step(start, `lying file kind ${kind} (${framing})`, {
      predictable: kind !== 3 && kind !== 4,
      kind: 'put',
      id,
      early: kind === 2 || kind === 5,
      framing,
    });
  } else if (r < 0.66) {
    b.ping();
  } else if (r < 0.71) {
    // A valid put whose id is then repeated: the second must be a duplicate.
    const body = Buffer.from(encodeDict(randomDict(rng), 'json'));
    const id = b.validDict('json', body, 'dict');
    b.validDict('json', body, 'dict again', b.framing(), id);
  } else if (r < 0.76) {
    // A file in zero-length frames and one-byte frames.
    b.validFile(seededBytes(rng, rng.int(1, 200)), 'tiny.bin', 'tiny frames file', 'one-byte+empty');
  } else if (r < PREDICTABLE_SHARE) {
    // A dictionary near the limit, every byte of it in a frame of its own.
    const format = rng.pick(['json', 'xml', 'protobuf'] as const);
    const body = paddedDict(rng, format, rng.int(LIMITS.maxDictBytes / 2, LIMITS.maxDictBytes), LIMITS.maxDictBytes);
    b.validDict(format, body, 'near-limit dict', rng.pick(['one-byte', 'one-byte+empty'] as const), b.id(), Infinity);
  } else if (r < 0.87) {
    const id = b.id();
    const start = b.length;
    const [what, frames, predictable] = wrongOrder(rng, id);
    for (const f of frames) b.push(f);
    // A cancelled put is never answered: its id is owed nothing.
    b.step(start, `wrong order: ${what}`, { predictable, kind: 'other', id });
  } else if (r < 0.94) {
    const [what, bytes] = brokenEnvelope(rng);
    b.other(`broken envelope: ${what}`, false, bytes);
  } else {
    const [what, bytes] = framingLie(rng);
    b.other(`framing: ${what}`, false, [bytes, 0]);
  }
}

/**
 * A dripping sender: a valid hello and up to two valid steps at once, then a put of which only the start comes
 * at once; the rest is dripped (1-3 bytes, or one frame of 0-16 bytes, per tick: at most 210 bytes/s against a
 * minimum of 1 KiB/s) beginning inside its first frame, right after it, or inside its body. Owed: every earlier answer,
 * then ERR_TOO_SLOW (fatal) and a close; the dripped put is neither answered nor stored.
 */
function dripping(b: Builder): Session {
  const { rng } = b;
  hello(b, 1);
  for (let n = rng.int(0, 2); n > 0; n--) rng.bool() ? b.ping() : drawStep(b, 0.18);
  const wholeFrames = rng.bool(0.4);
  const framing: Framing = wholeFrames ? rng.pick(['one-byte', 'one-byte+empty', 'tiny'] as const) : b.framing();
  const start = b.length;
  if (rng.bool()) {
    const format = rng.pick(['json', 'xml', 'protobuf'] as const);
    b.validDict(format, paddedDict(rng, format, rng.int(600, 4000), LIMITS.maxDictBytes), 'dripped dict', framing);
  } else {
    b.validFile(seededBytes(rng, rng.int(600, 20_000)), 'drip.bin', 'dripped file', framing);
  }
  const ends = b.frameEnds().filter((e) => e > start);
  const first = ends[0] as number;
  let at: number;
  if (wholeFrames) at = rng.pick(ends.filter((e) => e <= first + 64));
  else {
    const r = rng.next();
    at = r < 0.35 ? rng.int(start + 1, first - 1) : r < 0.6 ? first : rng.int(first, first + 64);
  }
  return b.session('drip', b.length, { at, wholeFrames });
}
