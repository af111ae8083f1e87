/**
 * The same bytes written whole, one byte per write, and cut in two at every offset, each on its own connection:
 * the server's answers must be the same every time (docs/PROTOCOL.md §2: "Frame boundaries are independent of
 * TCP segment boundaries", "Frames are handled strictly in order, each as if it had arrived alone").
 */
import type { ServerMessage } from '@proj/protocol/wire';
import { check, show } from '../case';
import type { ServerContext } from './context';
import { open } from './steps';

export interface Split {
  label: string;
  /** Byte counts of the pieces, in order (the last piece is the rest). */
  cuts: readonly number[];
}

/** Whole, byte by byte, then in two at every offset from 1 to length − 1. */
export function splitsOf(length: number): Split[] {
  const out: Split[] = [
    { label: 'whole', cuts: [] },
    { label: 'byte by byte', cuts: Array<number>(length).fill(1) },
  ];
  for (let i = 1; i < length; i++) out.push({ label: `split at ${i}`, cuts: [i] });
  return out;
}

function cut(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const n of cuts) {
    pieces.push(bytes.subarray(at, at + n));
    at += n;
  }
  if (at < bytes.length) pieces.push(bytes.subarray(at));
  return pieces;
}

/**
 * One line per answer, with what must not vary: the type, and the members a server does not choose itself
 * (not its agent, limits, paths or times). Put ids become the names the stream gave them.
 */
export function describeAnswer(m: ServerMessage, names: ReadonlyMap<string, string>): string {
  const id = (value: string | undefined): string => (value === undefined ? '-' : (names.get(value) ?? value));
  switch (m.type) {
    case 'welcome':
      return `welcome version ${m.version}`;
    case 'receipt':
      return `receipt ${id(m.id)} ${m.kind} ${m.bytes} ${m.sha256} ${m.format ?? '-'} encrypted ${m.encrypted} duplicate ${m.duplicate}`;
    case 'ready':
      return `ready ${id(m.id)} ${m.offset}`;
    case 'error':
      return `error ${m.code} ${id(m.id)} fatal ${m.fatal}`;
    case 'pong':
      return `pong ${m.nonce ?? '-'}`;
    case 'bye':
      return 'bye';
    case 'notice':
      return `notice ${m.code} ${id(m.id)}`;
  }
}

export interface SplitStream {
  bytes: Buffer;
  /** Put id → the name it has in the expected answers. */
  names: ReadonlyMap<string, string>;
}

/** Every answer to `stream` written in `pieces`, until the server closes (or stops answering). */
async function answersTo(ctx: ServerContext, stream: SplitStream, split: Split): Promise<string[]> {
  const conn = await open(ctx);
  const out: string[] = [];
  try {
    const writing = conn.writePieces(cut(stream.bytes, split.cuts), split.label === 'byte by byte' ? 0 : 3);
    for (;;) {
      const answer = await conn
        .next(ctx.target.answerMs, `the next answer (${out.length} so far)`)
        .catch((err: unknown) => {
          out.push(`(${(err as Error).message})`);
          return { type: 'end' as const };
        });
      if (answer.type === 'end') break;
      out.push(describeAnswer(answer.message, stream.names));
    }
    await writing;
  } finally {
    conn.destroy();
  }
  return out;
}

export interface EverySplit {
  /** A fresh stream for each connection (fresh put ids, the same length every time). */
  stream: () => SplitStream;
  /** The answers every split must get, in order; the server closes after the last. */
  expected: readonly string[];
  /** Connections at once. */
  parallel?: number;
}

/** Writes the stream under every split; fails with the first few splits whose answers differ. */
export async function sameAnswersAtEverySplit(ctx: ServerContext, e: EverySplit): Promise<void> {
  const first = e.stream();
  const splits = splitsOf(first.bytes.length);
  const failures: string[] = [];
  const parallel = e.parallel ?? 4;
  for (let at = 0; at < splits.length; at += parallel) {
    await Promise.all(
      splits.slice(at, at + parallel).map(async (split) => {
        const stream = at === 0 && split.label === 'whole' ? first : e.stream();
        const got = await answersTo(ctx, stream, split);
        if (show(got, 10_000) !== show(e.expected, 10_000)) failures.push(`${split.label}: ${got.join(' | ')}`);
      }),
    );
  }
  check(
    failures.length === 0,
    () =>
      `${failures.length} of ${splits.length} ways of writing it got other answers than\n  ${e.expected.join(' | ')}\n` +
      failures
        .slice(0, 4)
        .map((f) => `  ${f}`)
        .join('\n'),
  );
}
