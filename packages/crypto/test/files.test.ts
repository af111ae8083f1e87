// encryptFile/decryptFile round trips, and every refusal with its code and no output left behind.
import { readFile, stat, writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import {
  createDecryptStream,
  createEncryptStream,
  decryptFile,
  encryptFile,
  generateIdentity,
  recipientOf,
  type DecryptOptions,
  type EncryptOptions,
} from '@proj/crypto';
import { codeOfRejection } from '@proj/test-utils';
import { listDir, randomFile, tempDir, throughTransform } from './helpers';

const KiB = 1024;
const SIZES = [0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 3 * 1024 * KiB + 5];
const CHUNK = 64 * KiB + 16;

let t: Awaited<ReturnType<typeof tempDir>>;
let identity: string;
let recipient: string;
let x25519: { enc: EncryptOptions; dec: DecryptOptions };
const passphrase = { enc: { passphrase: 'pw', scryptWorkFactor: 10 }, dec: { passphrase: 'pw' } };

beforeAll(async () => {
  t = await tempDir();
  identity = await generateIdentity();
  recipient = await recipientOf(identity);
  x25519 = { enc: { recipients: [recipient] }, dec: { identities: [identity] } };
});
afterAll(() => t.cleanup());

describe.each([
  ['X25519', () => x25519],
  ['passphrase', () => passphrase],
])('round trip, %s', (_name, keys) => {
  test.each(SIZES)('%i bytes', async (size) => {
    const plain = await randomFile(t.file('in'), size);
    await encryptFile(t.file('in'), t.file('in.age'), keys().enc);
    const sealed = await readFile(t.file('in.age'));
    // Header, 16-byte nonce, then one tag per chunk (an empty payload still has one empty chunk).
    const chunks = Math.max(1, Math.ceil(size / (64 * KiB)));
    const headerEnd = sealed.indexOf('\n', sealed.indexOf('\n--- ') + 1) + 1;
    expect(sealed.length - headerEnd).toBe(16 + size + 16 * chunks);
    await decryptFile(t.file('in.age'), t.file('out'), keys().dec);
    expect((await readFile(t.file('out'))).equals(plain)).toBe(true);
  });
});

test('output files are 0600 by default and the mode option applies', async () => {
  await randomFile(t.file('m'), 10);
  await encryptFile(t.file('m'), t.file('m.age'), x25519.enc);
  await decryptFile(t.file('m.age'), t.file('m.out'), { ...x25519.dec, mode: 0o640 });
  expect((await stat(t.file('m.age'))).mode & 0o777).toBe(0o600);
  expect((await stat(t.file('m.out'))).mode & 0o777).toBe(0o640);
});

test('streams survive any split of the input (property)', async () => {
  const plain = Buffer.alloc(3 * 64 * KiB + 123, 7);
  const sealed = await throughTransform(createEncryptStream(x25519.enc), plain, [100_000]);
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 150_000 }), { minLength: 1, maxLength: 8 }), async (pieces) => {
      const reopened = await throughTransform(createDecryptStream(x25519.dec), sealed, pieces);
      expect(reopened.equals(plain)).toBe(true);
      const resealed = await throughTransform(createEncryptStream(x25519.enc), plain, pieces);
      expect((await throughTransform(createDecryptStream(x25519.dec), resealed)).equals(plain)).toBe(true);
    }),
    { numRuns: 25 },
  );
});

test('the header arrives byte by byte', async () => {
  const plain = Buffer.from('hello');
  const sealed = await throughTransform(createEncryptStream(x25519.enc), plain);
  expect((await throughTransform(createDecryptStream(x25519.dec), sealed, [1])).equals(plain)).toBe(true);
});

describe('refusals leave no output and no temp file', () => {
  let sealed: Buffer;
  let headerEnd: number;

  beforeAll(async () => {
    await randomFile(t.file('src'), 3 * 64 * KiB + 100);
    await encryptFile(t.file('src'), t.file('src.age'), x25519.enc);
    sealed = await readFile(t.file('src.age'));
    headerEnd = sealed.indexOf('\n', sealed.indexOf('\n--- ') + 1) + 1;
  });

  async function refused(bytes: Buffer, opts: DecryptOptions = x25519.dec): Promise<string> {
    const { dir, file, cleanup } = await tempDir();
    try {
      await writeFile(file('bad.age'), bytes);
      await writeFile(file('out'), 'previous content');
      const code = await codeOfRejection(decryptFile(file('bad.age'), file('out'), opts));
      expect(await listDir(dir)).toEqual(['bad.age', 'out']);
      expect(await readFile(file('out'), 'utf8')).toBe('previous content');
      return code;
    } finally {
      await cleanup();
    }
  }
  const flip = (at: number): Buffer => {
    const copy = Buffer.from(sealed);
    copy[at] = (copy[at] ?? 0) ^ 0x01;
    return copy;
  };

  test('wrong identity', async () => {
    expect(await refused(sealed, { identities: [await generateIdentity()] })).toBe('ERR_AGE_NO_IDENTITY_MATCH');
  });
  test('wrong passphrase', async () => {
    await encryptFile(t.file('src'), t.file('src.p.age'), passphrase.enc);
    expect(await refused(await readFile(t.file('src.p.age')), { passphrase: 'nope' })).toBe(
      'ERR_AGE_NO_IDENTITY_MATCH',
    );
  });
  test('passphrase given for an X25519 file, identity for a passphrase file', async () => {
    expect(await refused(sealed, { passphrase: 'pw' })).toBe('ERR_AGE_NO_IDENTITY_MATCH');
    expect(await refused(await readFile(t.file('src.p.age')), x25519.dec)).toBe('ERR_AGE_NO_IDENTITY_MATCH');
  });
  test('a byte of the header MAC changed', async () => {
    const macAt = sealed.indexOf('\n--- ') + 10;
    const copy = Buffer.from(sealed);
    copy[macAt] = copy[macAt] === 0x41 ? 0x42 : 0x41; // stays valid base64
    expect(await refused(copy)).toBe('ERR_AGE_TAMPERED');
  });
  test('a stanza argument changed (key unwrap fails: the file no longer names our key)', async () => {
    const shareAt = sealed.indexOf('-> X25519 ') + 15;
    const copy = Buffer.from(sealed);
    copy[shareAt] = copy[shareAt] === 0x41 ? 0x42 : 0x41;
    expect(await refused(copy)).toBe('ERR_AGE_NO_IDENTITY_MATCH');
  });
  test('a byte in a middle chunk, in the last chunk, in the nonce', async () => {
    expect(await refused(flip(headerEnd + 16 + CHUNK + 5))).toBe('ERR_AGE_TAMPERED');
    expect(await refused(flip(sealed.length - 20))).toBe('ERR_AGE_TAMPERED');
    expect(await refused(flip(headerEnd + 3))).toBe('ERR_AGE_TAMPERED');
  });
  test('truncated at a chunk boundary, inside the nonce, inside the header, to nothing', async () => {
    expect(await refused(sealed.subarray(0, headerEnd + 16 + CHUNK))).toBe('ERR_AGE_TRUNCATED');
    expect(await refused(sealed.subarray(0, headerEnd + 16 + 2 * CHUNK))).toBe('ERR_AGE_TRUNCATED');
    expect(await refused(sealed.subarray(0, headerEnd + 16 + CHUNK + 10))).toBe('ERR_AGE_TRUNCATED');
    expect(await refused(sealed.subarray(0, headerEnd + 7))).toBe('ERR_AGE_TRUNCATED');
    expect(await refused(sealed.subarray(0, headerEnd + 16))).toBe('ERR_AGE_TRUNCATED');
    expect(await refused(sealed.subarray(0, headerEnd - 10))).toBe('ERR_AGE_TRUNCATED');
    expect(await refused(sealed.subarray(0, 5))).toBe('ERR_AGE_TRUNCATED');
    expect(await refused(Buffer.alloc(0))).toBe('ERR_AGE_TRUNCATED');
  });
  test('truncated mid-chunk is indistinguishable from tampering', async () => {
    expect(await refused(sealed.subarray(0, sealed.length - 50))).toBe('ERR_AGE_TAMPERED');
  });
  test('bytes appended after the final chunk', async () => {
    expect(await refused(Buffer.concat([sealed, Buffer.from('x')]))).toBe('ERR_AGE_TAMPERED');
  });
  test('not an age file, a malformed header, an armored file, plugin-only recipients', async () => {
    expect(await refused(Buffer.from('just some plain text that is long enough\n'))).toBe('ERR_AGE_HEADER');
    expect(await refused(Buffer.from('age-encryption.org/v1\n-> X25519\n--- abc\n'))).toBe('ERR_AGE_HEADER');
    const armored = Buffer.from('-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCg==\n');
    expect(await refused(armored)).toBe('ERR_AGE_UNSUPPORTED');
    const header = sealed.subarray(0, headerEnd).toString('latin1');
    const plugin = header.replace(/-> X25519 \S+\n\S+\n/, '-> piv-p256 abcd AAAA\nAAAAAAAAAAAAAAAAAAAAAA\n');
    expect(plugin).not.toBe(header);
    expect(await refused(Buffer.concat([Buffer.from(plugin, 'latin1'), sealed.subarray(headerEnd)]))).toBe(
      'ERR_AGE_UNSUPPORTED',
    );
  });
  test('input file missing: the fs error as is, no output', async () => {
    expect(await codeOfRejection(decryptFile(t.file('nope.age'), t.file('nope.out'), x25519.dec))).toBe('ENOENT');
    expect((await listDir(t.dir)).filter((f) => f.startsWith('.') || f.startsWith('nope'))).toEqual([]);
  });
});

describe('bad options are refused synchronously', () => {
  test.each<[string, () => unknown]>([
    ['no key', () => createEncryptStream({})],
    ['both modes', () => createEncryptStream({ recipients: [recipient], passphrase: 'x' })],
    ['bad recipient', () => createEncryptStream({ recipients: ['age1nope'] })],
    ['empty passphrase', () => createEncryptStream({ passphrase: '' })],
    ['work factor', () => createEncryptStream({ passphrase: 'x', scryptWorkFactor: 40 })],
    ['no identity', () => createDecryptStream({})],
    ['bad identity', () => createDecryptStream({ identities: ['AGE-SECRET-KEY-1NOPE'] })],
  ])('%s', (_name, make) => {
    expect(make).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_OPTIONS' }));
  });
});
