import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encryptFile } from '@proj/crypto';
import { connect } from '@proj/protocol';
import { listFiles, makeTempDir, sha256File, sha256Hex } from '@proj/test-utils';
import { listReceived } from '../src/index';
import { RawClient, startTestServer, type TestServer } from './helpers';

/** Encrypts `plain` with the age CLI to `recipient`. */
function ageEncrypt(recipient: string, input: string, output: string, armor = false): void {
  execFileSync('age', [...(armor ? ['-a'] : []), '-r', recipient, '-o', output, input]);
}

function ageDecrypt(identityFile: string, input: string): Buffer {
  return execFileSync('age', ['-d', '-i', identityFile, input]);
}

describe('encrypted files', () => {
  let tmp: { path: string; remove: () => Promise<void> };
  let t: TestServer | undefined;
  const plaintext = 'top secret line\n'.repeat(10_000); // 160 KiB: several age chunks

  beforeEach(async () => {
    tmp = await makeTempDir();
    await writeFile(join(tmp.path, 'secret.txt'), plaintext);
  });
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    await tmp.remove();
  });

  it('keeps an age file encrypted at rest, openable by the age CLI with the server identity', async () => {
    t = await startTestServer({ output: 'both' });
    const recipient = t.server.recipient as string;
    expect(recipient).toMatch(/^age1/);
    const enc = join(tmp.path, 'secret.txt.age');
    ageEncrypt(recipient, join(tmp.path, 'secret.txt'), enc);

    const client = await connect({ port: t.server.port });
    expect(client.welcome.encryption).toEqual({ accepts: ['none', 'age'], recipient, canDecrypt: true });
    const receipt = await client.sendFile(enc, { id: 'enc-1', encryption: 'age' });
    await client.close();

    expect(receipt).toMatchObject({ encrypted: true, sha256: await sha256File(enc) });
    expect(receipt.path).toMatch(/-enc-1-secret\.txt\.age$/);
    const stored = join(t.dataDir, receipt.path);
    expect(await sha256File(stored)).toBe(await sha256File(enc));
    expect(ageDecrypt(join(t.dataDir, 'identity.txt'), stored).toString()).toBe(plaintext);
    // Shown decrypted on screen, not saved in plaintext by default.
    expect(t.stdout()).toContain('top secret line');
    expect((await listReceived(t.dataDir))[0]?.plaintextPath).toBeUndefined();
  });

  it('detects age by its header, whatever the client declares, and appends .age', async () => {
    t = await startTestServer({ output: 'file' });
    const enc = join(tmp.path, 'upload.bin');
    ageEncrypt(t.server.recipient as string, join(tmp.path, 'secret.txt'), enc, true); // armored
    const client = await connect({ port: t.server.port });
    const receipt = await client.sendFile(enc, { id: 'enc-2', encryption: 'none' });
    await client.close();
    expect(receipt.encrypted).toBe(true);
    expect(receipt.path).toMatch(/-enc-2-upload\.bin\.age$/);
    expect(ageDecrypt(join(t.dataDir, 'identity.txt'), join(t.dataDir, receipt.path)).toString()).toBe(plaintext);
  });

  it('saves the plaintext too with savePlaintext', async () => {
    t = await startTestServer({ output: 'file', savePlaintext: true });
    const enc = join(tmp.path, 'secret.txt.age');
    ageEncrypt(t.server.recipient as string, join(tmp.path, 'secret.txt'), enc);
    const client = await connect({ port: t.server.port });
    const receipt = await client.sendFile(enc, { id: 'enc-3' });
    await client.close();
    const [item] = await listReceived(t.dataDir);
    expect(item?.plaintextPath).toMatch(/-enc-3-secret\.txt$/);
    expect(await readFile(join(t.dataDir, item?.plaintextPath as string), 'utf8')).toBe(plaintext);
    expect(receipt.sha256).toBe(await sha256File(enc));
    expect(t.stdout()).toContain(`plaintext -> ${item?.plaintextPath}`);
  });

  it('opens files encrypted to its passphrase-less identity from another identity file', async () => {
    const idFile = join(tmp.path, 'key.txt');
    execFileSync('age-keygen', ['-o', idFile], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', idFile]).toString().trim();
    t = await startTestServer({ identityFile: idFile, output: 'screen' });
    expect(t.server.recipient).toBe(recipient);
    const enc = join(tmp.path, 's.age');
    ageEncrypt(recipient, join(tmp.path, 'secret.txt'), enc);
    const client = await connect({ port: t.server.port });
    await client.sendFile(enc, { id: 'enc-4' });
    await client.close();
    expect(t.stdout()).toContain('top secret line');
  });

  it('says so when it cannot decrypt, and still keeps the ciphertext', async () => {
    t = await startTestServer({ output: 'both', savePlaintext: true });
    const other = join(tmp.path, 'other.txt');
    execFileSync('age-keygen', ['-o', other], { stdio: 'ignore' });
    const otherRecipient = execFileSync('age-keygen', ['-y', other]).toString().trim();
    const enc = join(tmp.path, 'for-someone-else.age');
    ageEncrypt(otherRecipient, join(tmp.path, 'secret.txt'), enc);
    const client = await connect({ port: t.server.port });
    const receipt = await client.sendFile(enc, { id: 'enc-5' });
    await client.close();
    expect(receipt.encrypted).toBe(true);
    expect(await sha256File(join(t.dataDir, receipt.path))).toBe(await sha256File(enc));
    expect(t.stdout()).toContain('cannot decrypt it (ERR_AGE_NO_IDENTITY_MATCH)');
    expect((await listReceived(t.dataDir))[0]?.plaintextPath).toBeUndefined();
    expect(ageDecrypt(other, join(t.dataDir, receipt.path)).toString()).toBe(plaintext);
  });

  it('with decryption off, announces canDecrypt false and shows a note', async () => {
    t = await startTestServer({ output: 'screen', decrypt: false });
    const enc = join(tmp.path, 'x.age');
    ageEncrypt(t.server.recipient as string, join(tmp.path, 'secret.txt'), enc);
    const client = await connect({ port: t.server.port });
    expect(client.welcome.encryption.canDecrypt).toBe(false);
    await client.sendFile(enc, { id: 'enc-6' });
    await client.close();
    expect(t.stdout()).toContain('decryption is turned off');
    expect(t.stdout()).not.toContain('top secret line');
  });

  it('opens passphrase-encrypted files with --passphrase-file', async () => {
    const pass = join(tmp.path, 'pass.txt');
    await writeFile(pass, 'correct horse battery staple\n', { mode: 0o600 });
    const enc = join(tmp.path, 'p.txt.age');
    await encryptFile(join(tmp.path, 'secret.txt'), enc, {
      passphrase: 'correct horse battery staple',
      scryptWorkFactor: 10,
    });
    t = await startTestServer({ output: 'file', passphraseFile: pass, savePlaintext: true });
    const client = await connect({ port: t.server.port });
    const receipt = await client.sendFile(enc, { id: 'enc-7', encryption: 'age' });
    await client.close();
    const [item] = await listReceived(t.dataDir);
    expect(receipt.path).toMatch(/-enc-7-p\.txt\.age$/);
    expect(await readFile(join(t.dataDir, item?.plaintextPath as string), 'utf8')).toBe(plaintext);
    expect(JSON.stringify(t.logs())).not.toContain('correct horse');
  });

  it('refuses bytes declared age that are not an age file (ERR_ENCRYPTION_MISMATCH): nothing stored or shown', async () => {
    t = await startTestServer({ output: 'both' });
    const client = await connect({ port: t.server.port });
    await expect(
      client.sendFile(join(tmp.path, 'secret.txt'), { id: 'enc-8', encryption: 'age' }),
    ).rejects.toMatchObject({ code: 'ERR_ENCRYPTION_MISMATCH', remote: true });
    // Not fatal: the connection goes on.
    await expect(client.sendDict({ after: true }, { id: 'after-8' })).resolves.toMatchObject({ type: 'receipt' });
    await client.close();
    expect((await listFiles(join(t.dataDir, 'items'))).some((f) => f.includes('-enc-8-'))).toBe(false);
    expect(t.stdout()).not.toContain('top secret line');
  });

  it('checks the declaration last, on the bytes themselves: an age line cut short is not an age file', async () => {
    t = await startTestServer({ output: 'file' });
    const c = await RawClient.welcomed(t.server.port);
    const cases: Array<[string, Buffer, string]> = [
      ['empty', Buffer.alloc(0), 'ERR_ENCRYPTION_MISMATCH'],
      ['no-newline', Buffer.from('age-encryption.org/v1'), 'ERR_ENCRYPTION_MISMATCH'],
      ['other-version', Buffer.from('age-encryption.org/v2\n-> X25519 x\n'), 'ERR_ENCRYPTION_MISMATCH'],
    ];
    for (const [id, body, code] of cases) {
      c.control({ type: 'put_file', id, name: 'x.bin', encryption: 'age' });
      expect(await c.next()).toMatchObject({ type: 'ready', id });
      c.data(body);
      c.control({ type: 'file_end', id, bytes: body.length, sha256: sha256Hex(body) });
      expect(await c.next()).toEqual(expect.objectContaining({ type: 'error', id, code, fatal: false }));
    }
    // A wrong checksum is reported before the declaration is looked at.
    c.control({ type: 'put_file', id: 'sum', name: 'x.bin', encryption: 'age' });
    expect(await c.next()).toMatchObject({ type: 'ready', id: 'sum' });
    c.data(Buffer.from('plain'));
    c.control({ type: 'file_end', id: 'sum', bytes: 5, sha256: '0'.repeat(64) });
    expect(await c.next()).toMatchObject({ type: 'error', id: 'sum', code: 'ERR_CHECKSUM_MISMATCH' });
    c.destroy();
    expect(await listFiles(join(t.dataDir, 'items'))).toEqual([]);
  });

  it('stores an age file sent as plain bytes as the age file it is; a name ending .age in any case keeps it', async () => {
    t = await startTestServer({ output: 'file' });
    const enc = join(tmp.path, 'backup.AGE');
    ageEncrypt(t.server.recipient as string, join(tmp.path, 'secret.txt'), enc);
    const client = await connect({ port: t.server.port });
    const receipt = await client.sendFile(enc, { id: 'enc-9', encryption: 'none' });
    await client.close();
    expect(receipt).toMatchObject({ encrypted: true, sha256: await sha256File(enc) });
    expect(receipt.path).toMatch(/-enc-9-backup\.AGE$/);
  });
});
