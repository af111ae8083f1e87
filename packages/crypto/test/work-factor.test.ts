// Passphrase work a sender can impose (issue 11, fault 9). The sender picks the scrypt work factor and the
// receiver pays it before it can tell a wrong passphrase, so: factors above the cap are refused with
// ERR_AGE_WORK_FACTOR before any scrypt runs; the cap is an option (default 18, what the age CLI and we write);
// one derivation per file with maxmem set to what it needs; one derivation at a time in the process, and a
// bounded line of decryptions behind it (ERR_AGE_SCRYPT_BUSY past it). A spy on node:crypto's scrypt counts and
// holds derivations, so nothing here depends on timing.
import nodeCrypto from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import {
  createDecryptStream,
  createEncryptStream,
  decryptFile,
  DEFAULT_MAX_SCRYPT_WORK_FACTOR,
  DEFAULT_SCRYPT_WORK_FACTOR,
  encryptFile,
  generateIdentity,
  recipientOf,
  SCRYPT_CONCURRENCY,
  SCRYPT_MAX_WAITING,
  SCRYPT_WORK_FACTOR_CEILING,
} from '@proj/crypto';
import { scryptMemory, scryptQueue } from '../src/scrypt';
import { codeOfRejection } from '@proj/test-utils';
import { listDir, tempDir, withWorkFactor } from './helpers';

type Callback = (err: Error | null, key: Buffer) => void;
interface Derivation {
  N: number;
  maxmem: number;
  /** Lets the real derivation run (it was held). */
  release: () => void;
  /** Ends a held derivation with a wrong key instead, without running it. */
  fake: () => void;
}

let t: Awaited<ReturnType<typeof tempDir>>;
/** A real passphrase file (work factor 10) and its plaintext. */
let sealed: Buffer;
const PASSPHRASE = 'correct horse battery staple';
const PLAIN = Buffer.from('a line of plaintext\n');

const original = nodeCrypto.scrypt;
let derivations: Derivation[] = [];
/** Derivations handed to node:crypto and not yet called back, and the most there ever were at once. */
let inFlight = 0;
let maxInFlight = 0;
/** When true, derivations wait for `release()`; otherwise they run at once. */
let hold = false;

beforeAll(async () => {
  t = await tempDir();
  await writeFile(t.file('plain'), PLAIN);
  await encryptFile(t.file('plain'), t.file('sealed.age'), { passphrase: PASSPHRASE, scryptWorkFactor: 10 });
  sealed = await readFile(t.file('sealed.age'));
  jest.spyOn(nodeCrypto, 'scrypt').mockImplementation(((...args: unknown[]) => {
    const done = args.pop() as Callback;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const callback: Callback = (err, key) => {
      inFlight--;
      done(err, key);
    };
    const opts = args[3] as { N: number; maxmem: number };
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      (original as (...a: unknown[]) => void)(...args, callback);
    };
    const fake = (): void => {
      if (released) return;
      released = true;
      callback(null, Buffer.alloc(32));
    };
    derivations.push({ N: opts.N, maxmem: opts.maxmem, release, fake });
    if (!hold) release();
  }) as typeof nodeCrypto.scrypt);
});
afterAll(async () => {
  jest.restoreAllMocks();
  await t.cleanup();
});
beforeEach(() => {
  derivations = [];
  hold = false;
  maxInFlight = inFlight;
});

async function writeSealed(name: string, bytes: Buffer): Promise<string> {
  await writeFile(t.file(name), bytes);
  return t.file(name);
}

/** Waits until `check` holds (file reads run on the thread pool, so this polls; the 10 s is only a way out). */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}

test('the defaults: encrypt at 18, accept up to 18 when decrypting, never run above 22', () => {
  expect(DEFAULT_MAX_SCRYPT_WORK_FACTOR).toBe(18);
  expect(DEFAULT_SCRYPT_WORK_FACTOR).toBeLessThanOrEqual(DEFAULT_MAX_SCRYPT_WORK_FACTOR); // what our client writes opens
  expect(SCRYPT_WORK_FACTOR_CEILING).toBe(22);
  expect(SCRYPT_CONCURRENCY).toBe(1);
});

test.each([19, 20, 22, 30, 64, '99999999999999999999'])(
  'a file claiming work factor %s is refused with ERR_AGE_WORK_FACTOR before any scrypt runs, leaving nothing',
  async (logN) => {
    const file = await writeSealed('high.age', withWorkFactor(sealed, logN));
    const before = await listDir(t.dir);
    expect(await codeOfRejection(decryptFile(file, t.file('high.out'), { passphrase: PASSPHRASE }))).toBe(
      'ERR_AGE_WORK_FACTOR',
    );
    const stream = createDecryptStream({ passphrase: PASSPHRASE });
    const failed = new Promise<string>((resolve) =>
      stream.on('error', (err: Error & { code?: string }) => resolve(String(err.code))),
    );
    stream.end(withWorkFactor(sealed, logN));
    stream.resume();
    expect(await failed).toBe('ERR_AGE_WORK_FACTOR');
    expect(derivations).toEqual([]);
    expect(await listDir(t.dir)).toEqual(before);
  },
);

test('the cap is an option: at 10 a file at 11 is refused without scrypt, at 11 it opens; the default opens it too', async () => {
  await encryptFile(t.file('plain'), t.file('eleven.age'), { passphrase: PASSPHRASE, scryptWorkFactor: 11 });
  derivations = [];
  expect(
    await codeOfRejection(
      decryptFile(t.file('eleven.age'), t.file('eleven.out'), { passphrase: PASSPHRASE, maxScryptWorkFactor: 10 }),
    ),
  ).toBe('ERR_AGE_WORK_FACTOR');
  expect(derivations).toEqual([]);
  await decryptFile(t.file('eleven.age'), t.file('eleven.out'), { passphrase: PASSPHRASE, maxScryptWorkFactor: 11 });
  expect((await readFile(t.file('eleven.out'))).equals(PLAIN)).toBe(true);
  await decryptFile(t.file('eleven.age'), t.file('eleven.out2'), { passphrase: PASSPHRASE });
  expect((await readFile(t.file('eleven.out2'))).equals(PLAIN)).toBe(true);
  expect(derivations.map((d) => d.N)).toEqual([2 ** 11, 2 ** 11]);
});

test('a raised cap lets a higher factor through to exactly one derivation, with maxmem what it needs', async () => {
  // The derivation is held and never run: only its parameters matter here (a real one would take 512 MiB).
  hold = true;
  const file = await writeSealed('nineteen.age', withWorkFactor(sealed, 19));
  const opened = codeOfRejection(
    decryptFile(file, t.file('nineteen.out'), { passphrase: PASSPHRASE, maxScryptWorkFactor: 19 }),
  );
  await until(() => derivations.length === 1);
  expect(derivations.map(({ N, maxmem }) => ({ N, maxmem }))).toEqual([{ N: 2 ** 19, maxmem: scryptMemory(19) }]);
  expect(scryptMemory(19)).toBeLessThan(2 ** 19 * 1024 + 4096); // 128 * r * N, r = 8, plus a few KiB
  // End the held derivation with a wrong key: the file is then refused as a wrong passphrase.
  derivations[0]?.fake();
  expect(await opened).toBe('ERR_AGE_NO_IDENTITY_MATCH');
  expect(derivations).toHaveLength(1);
});

test('caps outside 1..22 (and work factors to encrypt with) are option errors, thrown synchronously', async () => {
  for (const bad of [0, 23, 1.5, Number.NaN, -1]) {
    expect(() => createDecryptStream({ passphrase: 'x', maxScryptWorkFactor: bad })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_OPTIONS' }),
    );
  }
  expect(() => createDecryptStream({ passphrase: 'x', maxScryptWorkFactor: 22 })).not.toThrow();
  expect(() => createEncryptStream({ passphrase: 'x', scryptWorkFactor: 23 })).toThrow(
    expect.objectContaining({ code: 'ERR_CRYPTO_OPTIONS' }),
  );
  // 22 is accepted: the encoder starts deriving at once (held here, and ended with a fake key: 4 GiB otherwise).
  hold = true;
  const stream = createEncryptStream({ passphrase: 'x', scryptWorkFactor: 22 });
  await until(() => derivations.length === 1);
  expect(derivations[0]?.N).toBe(2 ** 22);
  derivations[0]?.fake();
  stream.end();
  stream.resume();
  await new Promise((resolve) => stream.on('end', resolve));
  expect(scryptQueue.running).toBe(0);
});

test('a header with two scrypt stanzas, or scrypt next to X25519, is refused without trying the passphrase', async () => {
  const text = sealed.toString('latin1');
  const stanza = /^-> scrypt .*\n.*\n/m.exec(text)?.[0] as string;
  expect(stanza).toBeDefined();
  const twice = await writeSealed('twice.age', Buffer.from(text.replace(stanza, stanza + stanza), 'latin1'));
  expect(await codeOfRejection(decryptFile(twice, t.file('twice.out'), { passphrase: PASSPHRASE }))).toBe(
    'ERR_AGE_HEADER',
  );

  const identity = await generateIdentity();
  await encryptFile(t.file('plain'), t.file('x.age'), { recipients: [await recipientOf(await generateIdentity())] });
  const x = (await readFile(t.file('x.age'))).toString('latin1');
  const xStanza = /^-> X25519 .*\n.*\n/m.exec(x)?.[0] as string;
  const mixed = await writeSealed('mixed.age', Buffer.from(text.replace(stanza, xStanza + stanza), 'latin1'));
  expect(
    await codeOfRejection(decryptFile(mixed, t.file('mixed.out'), { identities: [identity], passphrase: PASSPHRASE })),
  ).toBe('ERR_AGE_HEADER');
  expect(derivations).toEqual([]);
});

test('one derivation at a time; decryptions past the line are refused with ERR_AGE_SCRYPT_BUSY, encryptions wait', async () => {
  hold = true;
  const file = await writeSealed('q.age', sealed);
  const accepted = 1 + SCRYPT_MAX_WAITING;
  const outcomes = Array.from({ length: accepted }, (_, i) =>
    codeOfRejection(decryptFile(file, t.file(`q${i}.out`), { passphrase: PASSPHRASE })),
  );
  await until(() => derivations.length === 1 && scryptQueue.waiting === SCRYPT_MAX_WAITING);

  // The line is full: two more decryptions are refused at once, without deriving.
  const refused = await Promise.all(
    [0, 1].map((i) => codeOfRejection(decryptFile(file, t.file(`busy${i}.out`), { passphrase: PASSPHRASE }))),
  );
  expect(refused).toEqual(['ERR_AGE_SCRYPT_BUSY', 'ERR_AGE_SCRYPT_BUSY']);
  // An encryption is the caller's own work: it waits its turn instead.
  const encrypted = encryptFile(t.file('plain'), t.file('late.age'), { passphrase: PASSPHRASE, scryptWorkFactor: 10 });
  await until(() => scryptQueue.waiting === SCRYPT_MAX_WAITING + 1);

  // Let the derivations run one after the other: the next one is handed to node:crypto only when one ended.
  for (let n = 1; n <= accepted + 1; n++) {
    await until(() => derivations.length === n);
    derivations[n - 1]?.release();
  }
  expect(await Promise.all(outcomes)).toEqual(Array(accepted).fill('resolved'));
  await encrypted;
  expect(derivations).toHaveLength(accepted + 1);
  expect(maxInFlight).toBe(1);
  expect([scryptQueue.running, scryptQueue.waiting]).toEqual([0, 0]);
});
