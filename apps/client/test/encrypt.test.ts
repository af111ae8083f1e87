/** Encrypting for sending: each opening is a fresh, valid age encryption of the file; failures reach the reader. */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { decryptFile, generateIdentity, recipientOf } from '@proj/crypto';
import { makeTempDir } from '@proj/test-utils';
import { encryptedSource } from '../src/encrypt';

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('encryptedSource', () => {
  it('each open() is a new encryption that decrypts to the file', async () => {
    const dir = await makeTempDir();
    try {
      const identity = await generateIdentity();
      const plain = randomBytes(3 * 1024 * 1024 + 3);
      await writeFile(join(dir.path, 'in.bin'), plain);
      const source = await encryptedSource(join(dir.path, 'in.bin'), {
        kind: 'recipients',
        recipients: [await recipientOf(identity)],
      });
      const [a, b] = await Promise.all([collect(source.open()), collect(source.open())]);
      expect(sha(a)).not.toBe(sha(b)); // a new file key each time
      expect(source.plainBytes).toBe(plain.length);
      expect(a.length - source.approxBytes).toBeGreaterThan(0);
      expect(a.length - source.approxBytes).toBeLessThan(300); // the header
      for (const [name, bytes] of [
        ['a.age', a],
        ['b.age', b],
      ] as const) {
        await writeFile(join(dir.path, name), bytes);
        await decryptFile(join(dir.path, name), join(dir.path, `${name}.out`), { identities: [identity] });
        expect((await readFile(join(dir.path, `${name}.out`))).equals(plain)).toBe(true);
      }
    } finally {
      await dir.remove();
    }
  });

  it('a file that cannot be read fails the stream with the read error', async () => {
    const dir = await makeTempDir();
    try {
      // A directory stats fine but cannot be read.
      const source = await encryptedSource(dir.path, {
        kind: 'recipients',
        recipients: [await recipientOf(await generateIdentity())],
      });
      await expect(collect(source.open())).rejects.toMatchObject({ code: 'EISDIR' });
    } finally {
      await dir.remove();
    }
  });
});
