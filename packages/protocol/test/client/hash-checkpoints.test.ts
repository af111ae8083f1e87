/**
 * The SHA-256 states a client keeps while it sends a file (src/client/hash-checkpoints.ts), which a resume in the
 * same process hashes on from: each state is the hash of exactly the bytes below it, the nearest one at or below
 * an offset is found, and a file written since has another identity.
 */
import { createHash } from 'node:crypto';
import { stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from '@proj/test-utils';
import { checkpointsOf, fileIdentity, HashCheckpoints } from '../../src/client/hash-checkpoints';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Feeds `bytes` to a hash in pieces of `piece` bytes, keeping a state after each, as a send does. */
function sent(bytes: Buffer, piece: number): HashCheckpoints {
  const states = new HashCheckpoints();
  const hash = createHash('sha256');
  for (let at = 0; at < bytes.length; at += piece) {
    hash.update(bytes.subarray(at, at + piece));
    states.add(Math.min(at + piece, bytes.length), hash);
  }
  return states;
}

test('the state nearest at or below an offset, continued with the bytes from there, gives the prefix hash', () => {
  const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 251));
  const states = sent(bytes, 1000);
  for (const offset of [1000, 1001, 4999, 5000, 9999, 10_000]) {
    const start = states.below(offset);
    expect(start?.at).toBe(Math.floor(offset / 1000) * 1000);
    const hash = start?.hash.update(bytes.subarray(start.at, offset));
    expect(hash?.digest('hex')).toBe(sha(bytes.subarray(0, offset)));
  }
  expect(states.below(999)).toBeUndefined();
  // A state handed out is a copy: using it leaves the kept one as it was.
  expect(states.below(2000)?.hash.digest('hex')).toBe(sha(bytes.subarray(0, 2000)));
  expect(states.below(2000)?.hash.digest('hex')).toBe(sha(bytes.subarray(0, 2000)));
});

test('only the latest states are kept at every piece; older ones every 64 MiB', () => {
  const states = new HashCheckpoints();
  const hash = createHash('sha256');
  // Positions only matter here: the states stand for a 200 MiB file sent in 1 MiB pieces.
  for (let at = MiB; at <= 200 * MiB; at += MiB) states.add(at, hash);
  expect(states.below(200 * MiB)?.at).toBe(200 * MiB);
  expect(states.below(150 * MiB + 5)?.at).toBe(150 * MiB);
  // Below the 64 recent ones (137-200 MiB), the sparse ones: the first state past each 64 MiB boundary.
  expect(states.below(130 * MiB)?.at).toBe(128 * MiB);
  expect(states.below(100 * MiB)?.at).toBe(64 * MiB);
  expect(states.below(63 * MiB)).toBeUndefined();
});

test('a file read from its start again replaces the states kept', () => {
  const bytes = Buffer.alloc(5000, 1);
  const states = sent(bytes, 1000);
  const hash = createHash('sha256').update(bytes.subarray(0, 500));
  states.add(500, hash);
  expect(states.below(4000)?.at).toBe(500);
});

test('a file written since has another identity, and no states', async () => {
  const dir = await makeTempDir('hash-checkpoints-');
  try {
    const path = join(dir.path, 'f.bin');
    await writeFile(path, Buffer.alloc(4096, 1));
    // Written long ago, as far as its modification time says: the write below cannot fall in the same clock tick.
    await utimes(path, 1, 1);
    const before = fileIdentity(path, await stat(path, { bigint: true }));
    expect(fileIdentity(path, await stat(path, { bigint: true }))).toBe(before);
    const states = checkpointsOf(before);
    states.add(4096, createHash('sha256').update(Buffer.alloc(4096, 1)));
    expect(checkpointsOf(before).below(4096)?.at).toBe(4096);
    // Same size, other bytes: the times change.
    await writeFile(path, Buffer.alloc(4096, 2));
    const after = fileIdentity(path, await stat(path, { bigint: true }));
    expect(after).not.toBe(before);
    expect(checkpointsOf(after).below(4096)).toBeUndefined();
    // The states of the path's older contents are dropped with them.
    expect(checkpointsOf(before).below(4096)).toBeUndefined();
  } finally {
    await dir.remove();
  }
});
