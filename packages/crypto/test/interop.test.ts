// Byte-for-byte interoperability with the Debian `age` CLI (1.1) and with the npm library's own
// Encrypter/Decrypter (which uses its pure-JS payload cipher, i.e. an independent STREAM implementation).
import { readFile, writeFile } from 'node:fs/promises';
import { Decrypter, Encrypter } from 'age-encryption';
import { decryptFile, DEFAULT_MAX_SCRYPT_WORK_FACTOR, encryptFile, readIdentityFile, recipientOf } from '@proj/crypto';
import { cli, cliBytes, cliWithPassphrase, randomFile, tempDir } from './helpers';

// Sizes that cross the 64 KiB chunk boundary, plus empty.
const SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536 + 7];

let t: Awaited<ReturnType<typeof tempDir>>;
let identity: string;
let recipient: string;

beforeAll(async () => {
  t = await tempDir();
  await cli('age-keygen', ['-o', t.file('key.txt')]);
  [identity = ''] = await readIdentityFile(t.file('key.txt'));
  recipient = (await cli('age-keygen', ['-y', t.file('key.txt')])).trim();
});
afterAll(() => t.cleanup());

describe('age CLI, X25519', () => {
  test.each(SIZES)('ours encrypts, age -d decrypts (%i bytes)', async (size) => {
    const plain = await randomFile(t.file(`p${size}`), size);
    await encryptFile(t.file(`p${size}`), t.file(`o${size}.age`), { recipients: [recipient] });
    const out = await cliBytes(['-d', '-i', t.file('key.txt'), t.file(`o${size}.age`)]);
    expect(out.equals(plain)).toBe(true);
  });

  test.each(SIZES)('age encrypts, ours decrypts (%i bytes)', async (size) => {
    const plain = await randomFile(t.file(`q${size}`), size);
    await cli('age', ['-r', recipient, '-o', t.file(`c${size}.age`), t.file(`q${size}`)]);
    await decryptFile(t.file(`c${size}.age`), t.file(`c${size}.out`), { identities: [identity] });
    expect((await readFile(t.file(`c${size}.out`))).equals(plain)).toBe(true);
  });

  test('ciphertext size matches the CLI exactly (same header and STREAM layout)', async () => {
    await randomFile(t.file('sz'), 200_000);
    await encryptFile(t.file('sz'), t.file('sz.ours.age'), { recipients: [recipient] });
    await cli('age', ['-r', recipient, '-o', t.file('sz.cli.age'), t.file('sz')]);
    const [ours, theirs] = await Promise.all([readFile(t.file('sz.ours.age')), readFile(t.file('sz.cli.age'))]);
    expect(ours.length).toBe(theirs.length);
  });
});

describe('age CLI, passphrase (through a pseudo-terminal)', () => {
  const passphrase = 'correct horse battery staple';

  test('ours encrypts, age -d decrypts', async () => {
    const plain = await randomFile(t.file('pp'), 100_000);
    await encryptFile(t.file('pp'), t.file('pp.age'), { passphrase, scryptWorkFactor: 12 });
    await cliWithPassphrase(['-d', '-o', t.file('pp.out'), t.file('pp.age')], passphrase, 1);
    expect((await readFile(t.file('pp.out'))).equals(plain)).toBe(true);
  });

  test('age -p encrypts, ours decrypts', async () => {
    const plain = await randomFile(t.file('cp'), 100_000);
    await cliWithPassphrase(['-p', '-o', t.file('cp.age'), t.file('cp')], passphrase, 2);
    expect((await readFile(t.file('cp.age'))).subarray(0, 40).toString('latin1')).toContain('-> scrypt ');
    // The CLI's default work factor is what DEFAULT_MAX_SCRYPT_WORK_FACTOR must accept.
    expect((await readFile(t.file('cp.age'))).toString('latin1')).toMatch(
      new RegExp(`^-> scrypt \\S+ ${DEFAULT_MAX_SCRYPT_WORK_FACTOR}$`, 'm'),
    );
    await decryptFile(t.file('cp.age'), t.file('cp.out'), { passphrase });
    expect((await readFile(t.file('cp.out'))).equals(plain)).toBe(true);
  });
});

describe('npm age-encryption library', () => {
  test.each(SIZES)('library encrypts, ours decrypts (%i bytes)', async (size) => {
    const plain = await randomFile(t.file(`l${size}`), size);
    const e = new Encrypter();
    e.addRecipient(recipient);
    await writeFile(t.file(`l${size}.age`), await e.encrypt(plain));
    await decryptFile(t.file(`l${size}.age`), t.file(`l${size}.out`), { identities: [identity] });
    expect((await readFile(t.file(`l${size}.out`))).equals(plain)).toBe(true);
  });

  test.each(SIZES)('ours encrypts, library decrypts (%i bytes)', async (size) => {
    const plain = await randomFile(t.file(`m${size}`), size);
    await encryptFile(t.file(`m${size}`), t.file(`m${size}.age`), { recipients: [recipient] });
    const d = new Decrypter();
    d.addIdentity(identity);
    const out = await d.decrypt(await readFile(t.file(`m${size}.age`)));
    expect(Buffer.from(out).equals(plain)).toBe(true);
  });

  test('passphrase both ways', async () => {
    const plain = await randomFile(t.file('lp'), 70_000);
    const e = new Encrypter();
    e.setPassphrase('pw');
    e.setScryptWorkFactor(10);
    await writeFile(t.file('lp.age'), await e.encrypt(plain));
    await decryptFile(t.file('lp.age'), t.file('lp.out'), { passphrase: 'pw' });
    expect((await readFile(t.file('lp.out'))).equals(plain)).toBe(true);

    await encryptFile(t.file('lp'), t.file('lp2.age'), { passphrase: 'pw', scryptWorkFactor: 10 });
    const d = new Decrypter();
    d.addPassphrase('pw');
    expect(Buffer.from(await d.decrypt(await readFile(t.file('lp2.age')))).equals(plain)).toBe(true);
  });

  test('several recipients: each identity opens the file', async () => {
    const other = await cli('age-keygen', []);
    const otherIdentity = other.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1')) ?? '';
    const plain = await randomFile(t.file('multi'), 1000);
    await encryptFile(t.file('multi'), t.file('multi.age'), {
      recipients: [recipient, await recipientOf(otherIdentity)],
    });
    for (const id of [identity, otherIdentity]) {
      await decryptFile(t.file('multi.age'), t.file('multi.out'), { identities: [id] });
      expect((await readFile(t.file('multi.out'))).equals(plain)).toBe(true);
    }
  });
});
