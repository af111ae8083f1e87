/**
 * X25519 identities and age identity files, in the format `age-keygen` writes:
 *
 *   # created: 2024-01-02T03:04:05Z
 *   # public key: age1…
 *   AGE-SECRET-KEY-1…
 *
 * Reading follows age's own parser: blank lines and lines starting with `#` are skipped, every other line is
 * one identity, and a file with none is an error.
 */
import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { link, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ageLibrary } from './age-library';
import { KeyFileError, KeyFileExistsError } from './errors';
import { newX25519Identity, x25519Recipient, x25519Scalar } from './x25519-identity';

/** age's own limit on an identity file. */
const MAX_IDENTITY_FILE = 1 << 24;

/**
 * Generates a new X25519 identity (`AGE-SECRET-KEY-1…`), readable by every age implementation (age 1.1 included).
 */
export async function generateIdentity(): Promise<string> {
  return newX25519Identity();
}

/**
 * Derives the public recipient (`age1…`) of an identity.
 *
 * @throws KeyFileError if `identity` is not a valid age identity.
 */
export async function recipientOf(identity: string): Promise<string> {
  // A native X25519 identity without age-encryption (./x25519-identity.ts); anything else as age-encryption says.
  const scalar = x25519Scalar(identity);
  if (scalar !== undefined) return x25519Recipient(scalar);
  try {
    return await ageLibrary().identityToRecipient(identity);
  } catch (cause) {
    throw new KeyFileError('invalid age identity (expected AGE-SECRET-KEY-1…)', { cause });
  }
}

/** Formats an identity the way `age-keygen` does. */
export async function formatIdentityFile(identity: string, created: Date = new Date()): Promise<string> {
  const recipient = await recipientOf(identity);
  return `# created: ${utcStamp(created)}\n# public key: ${recipient}\n${identity}\n`;
}

/**
 * `2026-12-03T21:14:05Z`, as age-keygen writes it. Built from the UTC getters rather than toISOString, which in
 * Node 20 reads the local time zone through ICU (~0.8 MiB of the node binary's pages a server otherwise never
 * touches; apps/server/src/iso-time.ts).
 */
function utcStamp(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(
    d.getUTCMinutes(),
  )}:${two(d.getUTCSeconds())}Z`;
}

/**
 * Writes `identity` as an age identity file with mode 0600, fsynced, published atomically (never half-written).
 *
 * @throws KeyFileExistsError if `filePath` exists (never overwrites a key).
 */
export async function writeIdentityFile(filePath: string, identity: string): Promise<void> {
  const text = await formatIdentityFile(identity);
  const target = path.resolve(filePath);
  // Written whole under a temporary name, then published with link(), which never replaces an existing file:
  // a concurrent reader sees either no identity file or a complete one, never an empty one.
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    try {
      // The umask can only clear bits, but a chmod makes 0600 explicit whatever created the directory.
      await handle.chmod(0o600);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new KeyFileExistsError(`refusing to overwrite existing identity file ${filePath}`, { cause: err });
      }
      throw err;
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const dir = await open(path.dirname(target), 'r');
  await dir.sync().catch(() => undefined);
  await dir.close();
}

/**
 * Parses the text of an age identity file.
 *
 * @returns every identity in the file, in order.
 * @throws KeyFileError on a line that is not an X25519 identity, or when there is none.
 */
export function parseIdentityFile(text: string): string[] {
  const identities: string[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('AGE-PLUGIN-'))
      throw new KeyFileError(`line ${index + 1}: plugin identities are not supported`);
    if (line.startsWith('-----BEGIN') || line.startsWith('age-encryption.org/')) {
      throw new KeyFileError('encrypted or armored identity files are not supported');
    }
    try {
      // Validates the bech32 encoding and the key length: natively for an X25519 identity, else by age-encryption.
      if (x25519Scalar(line) === undefined) new (ageLibrary().Decrypter)().addIdentity(line);
    } catch (cause) {
      throw new KeyFileError(`line ${index + 1}: not an age identity (expected AGE-SECRET-KEY-1…)`, { cause });
    }
    identities.push(line);
  }
  if (identities.length === 0) throw new KeyFileError('no identities found in the identity file');
  return identities;
}

/**
 * Reads an age identity file (as written by `age-keygen` or {@link writeIdentityFile}).
 *
 * @returns every identity in the file (comments and blank lines skipped).
 * @throws KeyFileError if the file holds no valid identity; fs errors (ENOENT…) as they are.
 */
export async function readIdentityFile(filePath: string): Promise<string[]> {
  const handle = await open(filePath, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_IDENTITY_FILE) throw new KeyFileError(`identity file is too large (${size} bytes)`);
    return parseIdentityFile(await handle.readFile('utf8'));
  } finally {
    await handle.close();
  }
}

/** Result of {@link ensureIdentityFile}. */
export interface EnsuredIdentity {
  /** The first identity in the file (`AGE-SECRET-KEY-1…`). */
  identity: string;
  /** Its public recipient (`age1…`), to hand to clients. */
  recipient: string;
  /** True if the file was generated by this call. */
  created: boolean;
}

/**
 * Loads the identity file at `filePath`, or generates one there (0600, O_EXCL) if there is none.
 * Safe against a concurrent creator: if another process wins the race, its file is loaded.
 */
export async function ensureIdentityFile(filePath: string): Promise<EnsuredIdentity> {
  const load = async (): Promise<EnsuredIdentity> => {
    const [identity] = await readIdentityFile(filePath);
    if (identity === undefined) throw new KeyFileError('no identities found in the identity file');
    return { identity, recipient: await recipientOf(identity), created: false };
  };
  try {
    return await load();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const identity = await generateIdentity();
  try {
    await writeIdentityFile(filePath, identity);
  } catch (err) {
    if (err instanceof KeyFileExistsError) return load();
    throw err;
  }
  return { identity, recipient: await recipientOf(identity), created: true };
}
