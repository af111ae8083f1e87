/**
 * Turning flags and environment into what the client needs, with a UsageError (exit code 2) that says what was
 * expected and what was found. Pure apart from reading the files the flags name.
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { parseCount, parsePort, UsageError } from '@proj/cli-kit';
import { readSecretFile } from '@proj/crypto';
import { DEFAULT_PORT } from '@proj/protocol';
import { putIdSchema } from '@proj/protocol/wire';
import { decodeJson, parseDictFormat, type Dict, type DictFormat } from '@proj/protocol/dict';
import { DEFAULT_RETRY, type RetryPolicy, type Target } from './link';

export const DEFAULT_HOST = '127.0.0.1';

/** Flags every command takes (commander's camel-cased names). */
export interface ConnectionFlags {
  host?: string;
  port?: string;
  tokenFile?: string;
  tls?: boolean;
  ca?: string;
  retries?: string;
  timeout?: string;
  json?: boolean;
  quiet?: boolean;
}

function cut(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

export function parseFormat(text: string): DictFormat {
  try {
    return parseDictFormat(text);
  } catch {
    throw new UsageError(`--format must be json, xml or binary, found ${cut(text)}`);
  }
}

export function parseId(text: string): string {
  if (!putIdSchema.safeParse(text).success) {
    throw new UsageError(
      `--id must be 1 to 128 characters of A-Z a-z 0-9 . _ : - starting with a letter or digit, found ${cut(text)}`,
    );
  }
  return text;
}

/**
 * Reads `--data` text as a dictionary: a JSON object. Depth and size are checked later against the server's own
 * limits, when the dictionary is encoded.
 */
export function parseDictData(text: string, from: string): Dict {
  const limits = { maxDictBytes: Number.MAX_SAFE_INTEGER, maxDictDepth: 100_000 };
  try {
    return decodeJson(Buffer.from(text, 'utf8'), limits);
  } catch (err) {
    const why = (err as Error).message;
    throw new UsageError(`${from} must be a JSON object, like '{"name":"Ada","age":36}': ${why}`, { cause: err });
  }
}

/** Resolves host, port, token and TLS from flags, then environment (PROJ_HOST, PROJ_PORT), then defaults. */
export async function resolveTarget(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Promise<Target> {
  const host = flags.host ?? (env.PROJ_HOST || DEFAULT_HOST);
  if (host.trim() === '') throw new UsageError('--host cannot be empty');
  const port =
    flags.port !== undefined
      ? parsePort(flags.port)
      : env.PROJ_PORT
        ? parsePort(env.PROJ_PORT, 'PROJ_PORT')
        : DEFAULT_PORT;
  const target: Target = { host, port };
  if (flags.tokenFile !== undefined) target.token = await readSecret(flags.tokenFile, '--token-file');
  if (flags.ca !== undefined) {
    target.tls = { ca: await readLocalFile(flags.ca, '--ca') };
  } else if (flags.tls) {
    target.tls = true;
  }
  if (flags.timeout !== undefined) {
    const seconds = parseCount(flags.timeout, '--timeout', { max: 86_400 });
    if (seconds === 0) throw new UsageError('--timeout must be at least 1 second');
    target.timeoutMs = seconds * 1000;
  }
  return target;
}

export function resolveRetry(flags: ConnectionFlags, env: NodeJS.ProcessEnv): RetryPolicy {
  const retries =
    flags.retries !== undefined ? parseCount(flags.retries, '--retries', { max: 100 }) : DEFAULT_RETRY.retries;
  // Tests shorten the pauses; not documented as a user setting.
  const base = env.PROJ_CLIENT_RETRY_BASE_MS
    ? parseCount(env.PROJ_CLIENT_RETRY_BASE_MS, 'PROJ_CLIENT_RETRY_BASE_MS', { max: 60_000 })
    : undefined;
  return { ...DEFAULT_RETRY, retries, ...(base !== undefined ? { baseDelayMs: base } : {}) };
}

/** A secret (token, passphrase) from a file: one trailing newline dropped, empty refused. */
export async function readSecret(path: string, flag: string): Promise<string> {
  await mustBeFile(path, flag);
  try {
    return await readSecretFile(path);
  } catch (err) {
    throw new UsageError(`${flag} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

async function readLocalFile(path: string, flag: string): Promise<Buffer> {
  await mustBeFile(path, flag);
  return readFile(path);
}

/**
 * A UsageError unless `path` is an existing regular file this process may read: checked before connecting, so a
 * file that cannot be sent is told in words (`file notes.txt: permission denied, cannot read it`) with exit code 2,
 * not as a raw EACCES after the connection is made.
 */
export async function mustBeFile(path: string, what: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (err) {
    throw new UsageError(`${what} ${path}: ${fsReason(err)}`, { cause: err });
  }
  if (!isFile) throw new UsageError(`${what} ${path}: not a regular file`);
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    throw new UsageError(`${what} ${path}: ${fsReason(err)}, cannot read it`, { cause: err });
  }
}

function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a folder on the way is not a folder';
  return (err as Error).message;
}
