/**
 * What `send-file` keeps between processes so that a second run after a crash resumes the same put
 * (docs/CLIENT.md, "Resuming"): one small file per send in progress, in `$XDG_STATE_HOME/proj-client/puts/`
 * (default `~/.local/state/proj-client/puts/`), removed once the receipt is in.
 *
 * A send is recognised by the file's absolute path, size, modification time, device and inode, the server's
 * address, and how it is encrypted: a file changed in any of these ways is a new send with a new put id. The
 * record holds the put id and, for an encrypted send, the keys that make its ciphertext repeatable
 * (docs/CRYPTO.md): as secret as the file itself, so the directory is 0700 and each record 0600, written whole
 * (temporary file, then rename) so that a crash leaves the old record or the new one.
 */
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EncryptionKeys } from '@proj/protocol';

/** The application's directory name under the state home. */
const APP_DIR = 'proj-client';

/** What a record is found by. */
export interface SendIdentity {
  path: string;
  stats: Pick<Stats, 'size' | 'mtimeMs' | 'dev' | 'ino'>;
  /** `host:port` of the server. */
  server: string;
  /** `none`, `passphrase`, or `recipients:<sorted, comma-separated>`, or `server` (its recipient). */
  encryption: string;
}

export interface ResumeRecord {
  id: string;
  keys?: EncryptionKeys & { recipients?: readonly string[] };
}

/** `$XDG_STATE_HOME/proj-client/puts`, or `~/.local/state/proj-client/puts` (XDG Base Directory default). */
export function resumeStateDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg?.startsWith('/') ? xdg : join(env.HOME || homedir(), '.local', 'state');
  return join(base, APP_DIR, 'puts');
}

export class ResumeState {
  readonly #dir: string;

  constructor(env: NodeJS.ProcessEnv) {
    this.#dir = resumeStateDir(env);
  }

  /** The record of an earlier, unfinished send of this file, if any (a damaged record counts as none). */
  async load(identity: SendIdentity): Promise<ResumeRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.#file(identity), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      if (json.version !== 1 || typeof json.id !== 'string') return undefined;
      const keys = json.keys as Record<string, unknown> | undefined;
      if (keys === undefined) return { id: json.id };
      if (typeof keys.prologue !== 'string' || typeof keys.payloadKey !== 'string') return undefined;
      const recipients = Array.isArray(keys.recipients) ? keys.recipients.map(String) : undefined;
      return {
        id: json.id,
        keys: {
          prologue: Buffer.from(keys.prologue, 'base64'),
          payloadKey: Buffer.from(keys.payloadKey, 'base64'),
          ...(recipients ? { recipients } : {}),
        },
      };
    } catch {
      return undefined;
    }
  }

  /** Records (or replaces) the send's put id and keys, mode 0600. */
  async save(identity: SendIdentity, record: ResumeRecord): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const file = this.#file(identity);
    const temp = `${file}.${process.pid}.tmp`;
    const json = {
      version: 1,
      id: record.id,
      source: resolve(identity.path),
      server: identity.server,
      createdAt: new Date().toISOString(),
      ...(record.keys
        ? {
            keys: {
              prologue: Buffer.from(record.keys.prologue).toString('base64'),
              payloadKey: Buffer.from(record.keys.payloadKey).toString('base64'),
              ...(record.keys.recipients ? { recipients: record.keys.recipients } : {}),
            },
          }
        : {}),
    };
    await writeFile(temp, `${JSON.stringify(json)}\n`, { mode: 0o600 });
    await chmod(temp, 0o600); // a umask cannot widen it, but an existing file keeps its mode: make sure
    await rename(temp, file);
  }

  /** Forgets the send (its receipt is in, or the server refused it for good). */
  async remove(identity: SendIdentity): Promise<void> {
    await rm(this.#file(identity), { force: true });
  }

  #file(identity: SendIdentity): string {
    const { size, mtimeMs, dev, ino } = identity.stats;
    const key = [resolve(identity.path), size, mtimeMs, dev, ino, identity.server, identity.encryption].join('\0');
    return join(this.#dir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.json`);
  }
}
