// Bounded memory: 512 MiB go through encrypt and then decrypt, produced by a generator and consumed by a hashing
// sink, never held. If either transform buffered its input, RSS would grow by at least 512 MiB.
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, createEncryptStream, generateIdentity, recipientOf } from '@proj/crypto';

const MiB = 1024 * 1024;
const TOTAL = 512 * MiB;
/**
 * What may legitimately grow: a few MiB of stream buffers (1 MiB pieces, 16 KiB high-water marks, one 64 KiB chunk
 * carried per transform), plus garbage awaiting collection: each 64 KiB chunk allocates fresh Buffers (node:crypto
 * returns new ones), which V8 frees only when its external-memory accounting triggers a GC (~64 MiB of growth).
 * 160 MiB leaves room for that and for jest, and is far below the 512 MiB that buffering would cost.
 */
const BOUND = 160 * MiB;

test('512 MiB through encrypt -> decrypt with bounded memory', async () => {
  const identity = await generateIdentity();
  const block = randomBytes(MiB);
  async function* source(): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < TOTAL; sent += MiB) yield block;
  }
  const expected = createHash('sha256');
  for (let i = 0; i < TOTAL / MiB; i++) expected.update(block);

  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakArrayBuffers = base.arrayBuffers;
  let seen = 0;
  const hash = createHash('sha256');
  await pipeline(
    Readable.from(source()),
    createEncryptStream({ recipients: [await recipientOf(identity)] }),
    createDecryptStream({ identities: [identity] }),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        seen += chunk.length;
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
        cb();
      },
    }),
  );
  expect(seen).toBe(TOTAL);
  expect(hash.digest('hex')).toBe(expected.digest('hex'));
  expect(peakRss - base.rss).toBeLessThan(BOUND);
  expect(peakArrayBuffers - base.arrayBuffers).toBeLessThan(BOUND);
}, 120_000);
