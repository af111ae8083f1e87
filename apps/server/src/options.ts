/**
 * The server's options, their defaults, and the parsing of the values an operator types (sizes, durations).
 * Every source (flags, environment, config file, prompts, the programmatic API) ends up as a `ServerOptions`.
 */
import type { Writable } from 'node:stream';
import { UsageError } from '@proj/cli-kit';
import { DEFAULT_LIMITS, DEFAULT_PORT } from '@proj/protocol';
import { DEFAULT_MAX_SCRYPT_WORK_FACTOR } from '@proj/crypto';
import { defaultPoolSize } from './dict-check/dict-decoder-pool';
import type { Logger } from './logger';
import type { Approver } from './approval';

export const OUTPUT_MODES = ['screen', 'file', 'both'] as const;
/** What the operator sees on standard output for each stored item. Every acknowledged item is stored either way. */
export type OutputMode = (typeof OUTPUT_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Limits and timeouts the server enforces. The first five are announced to clients in the welcome. */
export interface ServerLimits {
  /** Largest frame payload in bytes. */
  maxFrameBytes: number;
  /** Largest encoded dictionary in bytes. */
  maxDictBytes: number;
  /** Deepest dictionary nesting (the root object is depth 1). */
  maxDictDepth: number;
  /** Largest file in bytes. */
  maxFileBytes: number;
  /** Silence (ms) after which a connection is closed with ERR_TIMEOUT. 0 disables. */
  idleTimeoutMs: number;
  /** Time (ms) a new connection has to send its hello. */
  handshakeTimeoutMs: number;
  /** Sessions served at once; further hellos get ERR_TOO_MANY_CONNECTIONS. */
  maxConnections: number;
  /** Time (ms) the operator has to answer an approval prompt (`--ask`) before the item is rejected. */
  approvalTimeoutMs: number;
  /** Connections still waiting for their hello; past it, the oldest waiting one of the busiest address is closed. */
  maxPendingConnections: number;
  /** Connections from one address (an IPv4 address or an IPv6 /64), waiting or served. */
  maxConnectionsPerAddress: number;
  /** While a frame or a put's body is arriving, the slowest rate (bytes/s) accepted; 0 turns the check off. */
  minRateBytesPerSec: number;
  /** How long (ms) a transfer may stay below `minRateBytesPerSec` before it is cut with ERR_TOO_SLOW. */
  transferTimeoutMs: number;
  /** Input all connections together may hold in memory (dictionary bodies, file bytes not yet written). */
  maxBufferedBytes: number;
}

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  ...DEFAULT_LIMITS,
  handshakeTimeoutMs: 10_000,
  maxConnections: 256,
  approvalTimeoutMs: 60_000,
  maxPendingConnections: 128,
  maxConnectionsPerAddress: 64,
  minRateBytesPerSec: 1024,
  transferTimeoutMs: 10_000,
  maxBufferedBytes: 64 * 1024 * 1024,
});

export interface ServerOptions {
  /** Address to listen on; default 127.0.0.1 (use 0.0.0.0 to accept other machines). */
  host: string;
  /** TCP port; default 5050; 0 picks a free one. */
  port: number;
  /** Where items, receipts, temporaries and the identity live. */
  dataDir: string;
  /** What the operator sees per item: its content (`screen`), a one-line notice (`file`), or both. */
  output: OutputMode;
  /** age identity file; default `<dataDir>/identity.txt`, generated (mode 0600) when missing. */
  identityFile?: string;
  /** File holding an age passphrase, to open passphrase-encrypted files. */
  passphraseFile?: string;
  /**
   * Highest scrypt work factor (log2 N, 1-22) of a passphrase-encrypted file the server derives a key for; above it
   * the file is stored unopened (ERR_AGE_WORK_FACTOR) without any scrypt work. Default 18, what `age -p` and our
   * client write; each step up doubles the CPU and memory a sender who knows no passphrase can make us spend.
   */
  maxScryptWorkFactor: number;
  /** Whether to decrypt age files to show or save their plaintext; default true. */
  decrypt: boolean;
  /**
   * Worker threads that decode large dictionaries, so that a dense one does not stall every other client
   * (./dict-check/dict-decoder-pool.ts). 0 decodes every dictionary on the event loop. Default: one per core, at most 2.
   */
  dictWorkers: number;
  /** Also store the plaintext of encrypted files the server can open, next to the `.age` file. */
  savePlaintext: boolean;
  /** File holding the shared token clients must present. */
  tokenFile?: string;
  /** The token itself (programmatic use only; the CLI reads it from `tokenFile`). */
  token?: string;
  /** PEM certificate and key files: both enable TLS. */
  tlsCert?: string;
  tlsKey?: string;
  /** Ask the operator to accept or reject each item. */
  ask: boolean;
  /** Who answers approval questions; default an enquirer prompt on the terminal. */
  approver?: Approver;
  limits: ServerLimits;
  /** On close, how long (ms) puts under way may take to finish. */
  graceMs: number;
  /**
   * How long (ms) the partial of a cut file put (on a connection that negotiated `resume`) is kept since it was
   * last written, for a later put of its id to continue; then it is removed. Default a day.
   */
  partialTtlMs: number;
  /** Where human-readable lines go; default process.stdout; null for none. */
  stdout: Writable | null;
  /** Structured logger; default pino JSON on standard error at `logLevel`. */
  logger?: Logger;
  logLevel: LogLevel;
  /** Where the default logger writes; default standard error. */
  logDestination?: Writable;
}

/** What `startServer` takes: everything optional but the data directory; limits may be given in part. */
export type StartOptions = Omit<Partial<ServerOptions>, 'limits'> & {
  dataDir: string;
  limits?: Partial<ServerLimits>;
};

export const DEFAULTS = {
  host: '127.0.0.1',
  port: DEFAULT_PORT,
  dataDir: 'data',
  output: 'both' as OutputMode,
  decrypt: true,
  maxScryptWorkFactor: DEFAULT_MAX_SCRYPT_WORK_FACTOR,
  dictWorkers: defaultPoolSize(),
  savePlaintext: false,
  ask: false,
  graceMs: 10_000,
  partialTtlMs: 24 * 3600_000,
  logLevel: 'info' as LogLevel,
};

/** Fills in defaults. The programmatic API logs at `warn` unless told otherwise, to keep test output quiet. */
export function resolveOptions(input: StartOptions): ServerOptions {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...definedOnly(input.limits ?? {}) };
  return {
    ...DEFAULTS,
    logLevel: 'warn',
    stdout: process.stdout,
    ...definedOnly(input),
    limits,
  } as ServerOptions;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// -- value parsing ------------------------------------------------------------------------------------------------

// A usage mistake (bad flag value, bad config file) is @proj/cli-kit's UsageError: the CLI exits with code 2 for
// it. Named here too because the server's modules and its public API (./index.ts) take it from this file.
export { UsageError };

/**
 * How the port to listen on is read (@proj/cli-kit's parsePort): 0 picks a free one, and a refusal is worded like
 * the other settings' (`port: expected a whole number, got "seventy"`).
 */
export const LISTEN_PORT = { allowZero: true, wording: 'expected' } as const;

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** Parses `1048576`, `512KiB`, `1M`, `4GiB` (binary units) into bytes. */
export function parseSize(text: string | number, what: string): number {
  if (typeof text === 'number') return checkInt(text, what);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new UsageError(`${what}: expected a size like 1048576, 512KiB or 4GiB, got ${JSON.stringify(text)}`);
  return checkInt(Math.round(Number(m[1]) * unit), what);
}

const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** Parses `5000`, `500ms`, `30s`, `2m`, `1h` into milliseconds. */
export function parseDuration(text: string | number, what: string): number {
  if (typeof text === 'number') return checkInt(text, what);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? DURATION_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new UsageError(`${what}: expected a duration like 5000, 30s or 2m, got ${JSON.stringify(text)}`);
  return checkInt(Math.round(Number(m[1]) * unit), what);
}

export function parseOutput(text: string): OutputMode {
  if ((OUTPUT_MODES as readonly string[]).includes(text)) return text as OutputMode;
  throw new UsageError(`output: expected screen, file or both, got ${JSON.stringify(text)}`);
}

export function parseLogLevel(text: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(text)) return text as LogLevel;
  throw new UsageError(`log level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`);
}

export function parseBoolean(text: string | boolean, what: string): boolean {
  if (typeof text === 'boolean') return text;
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw new UsageError(`${what}: expected true or false, got ${JSON.stringify(text)}`);
}

function checkInt(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`${what}: expected a non-negative whole number, got ${n}`);
  return n;
}
