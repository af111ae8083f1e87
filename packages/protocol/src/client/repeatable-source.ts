/**
 * A file put's source that can be read again from its start, and the hashing a resume does with it: check the
 * prefix the server holds against its SHA-256, and hash the whole source from byte 0 while the tail is sent
 * (./session.ts sends; docs/CLIENT.md, "Resuming").
 */
import { createHash, type Hash } from 'node:crypto';
import type { HashCheckpoints } from './hash-checkpoints';

/**
 * A file that can be read again from its start, the same bytes each time (a file, or its repeatable
 * encryption): what a resumable put needs, to hash the prefix the server holds.
 */
export interface RepeatableSource {
  /** Exact size in bytes. */
  size: number;
  open(): AsyncIterable<Uint8Array>;
  /**
   * The same bytes from `offset` on, when the source can seek (a plain file): a resume then sends its tail while
   * the prefix is hashed, instead of after.
   */
  openAt?(offset: number): AsyncIterable<Uint8Array>;
  /** Gives back a chunk `open()` or `openAt()` yielded once nothing needs it (sent, or hashed). */
  recycle?(chunk: Uint8Array): void;
  /**
   * The source to send from zero after the server's partial did not match: an encrypted file takes new keys, so
   * that one key never encrypts two different plaintexts the server has seen (docs/CRYPTO.md).
   */
  renew?(): Promise<RepeatableSource>;
  /**
   * SHA-256 states of the source's first bytes kept by sends of it in this process (./hash-checkpoints.ts): a
   * resume hashes on from the one nearest below the server's offset instead of from byte 0.
   */
  checkpoints?: HashCheckpoints;
  /** False when the source is no longer what its checkpoints were kept for (a file written since). */
  unchanged?(): Promise<boolean>;
  /** Called once the put of the source is stored: its checkpoints are of no further use. */
  done?(): void;
}

/**
 * Hashes the first `offset` bytes from `iterator` into `hash` and compares them with `expected`. Returns the rest
 * of the chunk that crossed the offset (to send), or 'mismatch' (also when the source is shorter).
 */
export async function hashPrefix(
  iterator: AsyncIterator<Uint8Array>,
  hash: Hash,
  offset: number,
  expected: string | undefined,
  source: RepeatableSource,
): Promise<{ rest: Uint8Array | undefined | 'mismatch' }> {
  let position = 0;
  let rest: Uint8Array | undefined;
  while (position < offset) {
    const next = await iterator.next();
    if (next.done) return { rest: 'mismatch' };
    const chunk = next.value;
    const take = Math.min(chunk.length, offset - position);
    hash.update(take === chunk.length ? chunk : chunk.subarray(0, take));
    position += take;
    if (take < chunk.length) {
      // The remainder is sent by the caller; the chunk's buffer is recycled only after that (never here).
      rest = chunk.subarray(take);
    } else {
      source.recycle?.(chunk);
    }
  }
  // copy(): the whole file's hash goes on from this state.
  const prefix = hash.copy().digest('hex');
  return { rest: prefix === expected ? rest : 'mismatch' };
}

/**
 * The SHA-256 of the whole of `source` read from its start, its first `offset` bytes checked against `expected` on
 * the way ('mismatch' when they differ, or the source is shorter), keeping checkpoints as it goes. Stops early,
 * with what it has, once `stopped()`.
 */
export async function hashWhole(
  source: RepeatableSource,
  offset: number,
  expected: string,
  stopped: () => boolean,
): Promise<{ bytes: number; sha256: string } | 'mismatch'> {
  const hash = createHash('sha256');
  const iterator = source.open()[Symbol.asyncIterator]();
  try {
    const match = await hashPrefix(iterator, hash, offset, expected, source);
    if (match.rest === 'mismatch') return 'mismatch';
    let bytes = offset;
    if (match.rest) {
      hash.update(match.rest);
      bytes += match.rest.length;
      source.recycle?.(match.rest);
    }
    while (!stopped()) {
      const next = await iterator.next();
      if (next.done) break;
      hash.update(next.value);
      bytes += next.value.length;
      source.checkpoints?.add(bytes, hash);
      source.recycle?.(next.value);
    }
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    await iterator.return?.();
  }
}
