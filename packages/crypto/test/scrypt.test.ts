// Passphrase key derivation (scrypt, work factor 18: ~256 MiB and most of a second) must not block the event loop.
// A 1 ms interval counts ticks; a spy on node:crypto's scrypt records the count when a derivation starts and when
// its callback runs. Ticks in between prove the loop kept turning while the derivation ran (no timing involved).
import nodeCrypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { decryptFile, encryptFile } from '@proj/crypto';
import { randomFile, tempDir } from './helpers';

test('timers keep firing during passphrase encrypt and decrypt at work factor 18', async () => {
  const t = await tempDir();
  let ticks = 0;
  const during: number[] = [];
  const original = nodeCrypto.scrypt;
  const spy = jest.spyOn(nodeCrypto, 'scrypt').mockImplementation(((...args: unknown[]) => {
    const callback = args.pop() as (err: Error | null, key: Buffer) => void;
    const atStart = ticks;
    (original as (...a: unknown[]) => void)(...args, (err: Error | null, key: Buffer) => {
      during.push(ticks - atStart);
      callback(err, key);
    });
  }) as typeof nodeCrypto.scrypt);
  const timer = setInterval(() => ticks++, 1);
  try {
    const plain = await randomFile(t.file('p'), 1000);
    await encryptFile(t.file('p'), t.file('p.age'), { passphrase: 'long enough passphrase', scryptWorkFactor: 18 });
    expect((await readFile(t.file('p.age'))).toString('latin1')).toMatch(/-> scrypt \S+ 18\n/);
    await decryptFile(t.file('p.age'), t.file('p.out'), { passphrase: 'long enough passphrase' });
    expect((await readFile(t.file('p.out'))).equals(plain)).toBe(true);

    expect(spy).toHaveBeenCalledTimes(2); // one derivation to encrypt, one to decrypt
    expect(during).toHaveLength(2);
    for (const n of during) expect(n).toBeGreaterThan(0);
  } finally {
    clearInterval(timer);
    spy.mockRestore();
    await t.cleanup();
  }
}, 60_000);
