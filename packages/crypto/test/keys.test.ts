import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import {
  AGE_ARMOR_PREFIX,
  AGE_HEADER_PREFIX,
  detectAge,
  ensureIdentityFile,
  generateIdentity,
  isSecretFileExposed,
  parseIdentityFile,
  readIdentityFile,
  readSecretFile,
  recipientOf,
  writeIdentityFile,
} from '@proj/crypto';
import { codeOfRejection } from '@proj/test-utils';
import { cli, tempDir } from './helpers';

let t: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  t = await tempDir();
});
afterAll(() => t.cleanup());

describe('identity files', () => {
  test('written 0600 in age-keygen format; age-keygen -y agrees on the recipient', async () => {
    const identity = await generateIdentity();
    expect(identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    await writeIdentityFile(t.file('id.txt'), identity);
    expect((await stat(t.file('id.txt'))).mode & 0o777).toBe(0o600);
    const text = await readFile(t.file('id.txt'), 'utf8');
    const recipient = await recipientOf(identity);
    expect(text).toMatch(
      new RegExp(
        `^# created: \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\n# public key: ${recipient}\\n${identity}\\n$`,
      ),
    );
    expect((await cli('age-keygen', ['-y', t.file('id.txt')])).trim()).toBe(recipient);
    expect(await readIdentityFile(t.file('id.txt'))).toEqual([identity]);
  });

  test('refuses to overwrite, even a file that is not a key', async () => {
    await writeFile(t.file('taken.txt'), 'something');
    expect(await codeOfRejection(writeIdentityFile(t.file('taken.txt'), await generateIdentity()))).toBe(
      'ERR_KEY_FILE_EXISTS',
    );
    expect(await readFile(t.file('taken.txt'), 'utf8')).toBe('something');
  });

  test('loads age-keygen output; recipient matches age-keygen -y', async () => {
    await cli('age-keygen', ['-o', t.file('kg.txt')]);
    const [identity, ...more] = await readIdentityFile(t.file('kg.txt'));
    expect(more).toEqual([]);
    expect(await recipientOf(identity ?? '')).toBe((await cli('age-keygen', ['-y', t.file('kg.txt')])).trim());
  });

  test('several identities, comments, blank lines and CRLF, like age', async () => {
    const a = await generateIdentity();
    const b = await generateIdentity();
    expect(parseIdentityFile(`# one\r\n${a}\r\n\r\n# two\n${b}\n`)).toEqual([a, b]);
  });

  test.each([
    ['empty', ''],
    ['comments only', '# nothing\n'],
    ['garbage', 'hello\n'],
    ['bad checksum', 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n'],
    ['plugin', 'AGE-PLUGIN-YUBIKEY-1QQQQ\n'],
    ['a recipient instead', 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n'],
  ])('refuses %s', (_name, text) => {
    expect(() => parseIdentityFile(text)).toThrow(expect.objectContaining({ code: 'ERR_KEY_FILE' }));
  });

  test('ensureIdentityFile creates once, then loads', async () => {
    const first = await ensureIdentityFile(t.file('server.key'));
    expect(first.created).toBe(true);
    expect((await stat(t.file('server.key'))).mode & 0o777).toBe(0o600);
    const second = await ensureIdentityFile(t.file('server.key'));
    expect(second).toEqual({ identity: first.identity, recipient: first.recipient, created: false });
    // Two racing creators end up with the same key.
    const [x, y] = await Promise.all([ensureIdentityFile(t.file('race.key')), ensureIdentityFile(t.file('race.key'))]);
    expect(x.identity).toBe(y.identity);
    expect([x.created, y.created].sort()).toEqual([false, true]);
  });

  test('recipientOf refuses a non-identity', async () => {
    expect(await codeOfRejection(recipientOf('AGE-SECRET-KEY-1NOPE'))).toBe('ERR_KEY_FILE');
  });
});

describe('secret files', () => {
  test.each([
    ['pw', 'pw'],
    ['pw\n', 'pw'],
    ['pw\r\n', 'pw'],
    ['pw\n\n', 'pw\n'],
    [' spaced pw ', ' spaced pw '],
  ])('%j reads as %j', async (content, expected) => {
    await writeFile(t.file('pass'), content);
    expect(await readSecretFile(t.file('pass'))).toBe(expected);
  });

  test.each([
    ['empty', ''],
    ['only a newline', '\n'],
    ['too large', 'x'.repeat(70_000)],
  ])('refuses %s', async (_n, content) => {
    await writeFile(t.file('pass'), content);
    expect(await codeOfRejection(readSecretFile(t.file('pass')))).toBe('ERR_SECRET_FILE');
  });

  test('refuses invalid UTF-8', async () => {
    await writeFile(t.file('pass'), Buffer.from([0xff, 0xfe, 0x00]));
    expect(await codeOfRejection(readSecretFile(t.file('pass')))).toBe('ERR_SECRET_FILE');
  });

  test('isSecretFileExposed tells group/other readable files', async () => {
    await writeFile(t.file('s'), 'x');
    await chmod(t.file('s'), 0o600);
    expect(await isSecretFileExposed(t.file('s'))).toBe(false);
    await chmod(t.file('s'), 0o640);
    expect(await isSecretFileExposed(t.file('s'))).toBe(true);
    await chmod(t.file('s'), 0o604);
    expect(await isSecretFileExposed(t.file('s'))).toBe(true);
  });
});

describe('detectAge', () => {
  test.each<[string, Buffer, 'binary' | 'armored' | null]>([
    ['binary header', Buffer.from(`${AGE_HEADER_PREFIX}-> X25519 abc\n`), 'binary'],
    ['exactly the prefix', Buffer.from(AGE_HEADER_PREFIX), 'binary'],
    ['armored', Buffer.from(`${AGE_ARMOR_PREFIX}\nYWdl\n`), 'armored'],
    ['armored after whitespace', Buffer.from(`\n  ${AGE_ARMOR_PREFIX}\n`), 'armored'],
    ['plain text', Buffer.from('hello world, this is not age at all'), null],
    ['too short to tell', Buffer.from('age-encryption.org/'), null],
    ['other version', Buffer.from('age-encryption.org/v2\n'), null],
    ['empty', Buffer.alloc(0), null],
  ])('%s', (_name, bytes, expected) => {
    expect(detectAge(bytes)).toBe(expected);
  });

  test('accepts a Uint8Array view into a larger buffer', () => {
    const big = Buffer.concat([Buffer.from('xx'), Buffer.from(AGE_HEADER_PREFIX)]);
    expect(detectAge(new Uint8Array(big.buffer, big.byteOffset + 2, big.length - 2))).toBe('binary');
  });
});
