import { Decrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { newX25519Identity, x25519Recipient, x25519Scalar } from '../src/x25519-identity';

// The native path must agree with age-encryption on every identity, or a server would announce a recipient its
// own identity cannot open.
describe('native X25519 identities (x25519-identity.ts)', () => {
  it('derives the same recipient as age-encryption', async () => {
    for (let i = 0; i < 20; i += 1) {
      const identity = await generateX25519Identity();
      const scalar = x25519Scalar(identity);
      expect(scalar).toHaveLength(32);
      expect(x25519Recipient(scalar as Uint8Array)).toBe(await identityToRecipient(identity));
    }
  });

  it('generates identities age-encryption takes, with the recipient it derives', async () => {
    const identity = newX25519Identity();
    expect(identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    expect(() => new Decrypter().addIdentity(identity)).not.toThrow();
    expect(x25519Recipient(x25519Scalar(identity) as Uint8Array)).toBe(await identityToRecipient(identity));
  });

  it('leaves to age-encryption what is not a well-formed X25519 identity', async () => {
    const good = await generateX25519Identity();
    const last = good.at(-1) === 'Q' ? 'P' : 'Q';
    for (const bad of [
      `${good.slice(0, -1)}${last}`, // checksum
      good.toLowerCase(), // age wants the prefix in capitals
      `${good.slice(0, 20)}a${good.slice(21)}`, // mixed case
      good.replace('AGE-SECRET-KEY-1', 'AGE-SECRET-KEY-PQ-1'),
      'AGE-SECRET-KEY-1',
      '',
    ]) {
      expect(x25519Scalar(bad)).toBeUndefined();
    }
  });
});
