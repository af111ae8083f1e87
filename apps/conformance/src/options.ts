/**
 * The command line of `pnpm conformance`: the flags, their checks and the usage text. Relative paths are read from
 * the directory pnpm was started in (INIT_CWD), not from the package's.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCount, parsePort, UsageError } from '@proj/cli-kit';

export const USAGE = `Usage: pnpm conformance --server HOST:PORT [options]        check a server
       pnpm conformance --client-dict CMD --client-file CMD [options]   check a client
       (or node apps/conformance/dist/main.js …; add --silent after pnpm for clean --json output)

Runs the numbered cases of docs/PROTOCOL.md (spec/README.md, "The conformance kit") and prints one line per case.
Exit code: 0 every case passed, 1 a case failed, 2 bad flags, 3 none failed but some were skipped.

Server mode (raw bytes over TCP to a running server):
  --server <host:port>         the server to check
  --token-file <file>          the token the server requires (enables the ERR_AUTH cases)
  --handshake-timeout <ms>     the server's handshake timeout (enables 4.1.9 and 7.21)
  --transfer-timeout <ms>      the server's transfer timeout (enables 4.14, minimum rate, and 7.22)
  --max-per-address <n>        connections the server allows one address (enables 4.3.1 and 7.20)
  --max-pending <n>            connections it lets wait for their hello (enables 4.3.2)
  --max-wait <ms>              longest a case may wait for a timeout to fire (default 15000)
  --max-send <bytes>           most bytes a case may send in one put (default 67108864)

Client mode (a scripted server on 127.0.0.1; each case runs the client once with a fresh port):
  --client-dict <command>      sends one dictionary; placeholders {host} {port} {id} {format} {file}
                               ({file}: a JSON file holding the dictionary, {format}: json, xml or protobuf)
  --client-file <command>      sends one file; placeholders {host} {port} {id} {file} {name}
                               The client exits 0 when its put was acknowledged, non-zero otherwise.

Both:
  --cases <list>               only these cases: numbers or prefixes, comma-separated (4.3,5.4.2)
  --timeout <ms>               how long to wait for each answer (default 5000)
  --json                       print one JSON report instead of lines
  --list                       print the cases (number, title, the sentence each checks) and exit
  --spec-dir <dir>             where the vectors are (default: the repository's spec/)
  -h, --help                   this text
`;

export interface ServerModeOptions {
  host: string;
  port: number;
  token?: string;
  handshakeTimeoutMs?: number;
  transferTimeoutMs?: number;
  maxPerAddress?: number;
  maxPending?: number;
  maxWaitMs: number;
  maxSendBytes: number;
}

export interface ClientModeOptions {
  dictCommand: string;
  fileCommand: string;
}

export interface Options {
  mode: 'server' | 'client' | 'list' | 'help';
  server?: ServerModeOptions;
  client?: ClientModeOptions;
  only: string[];
  answerMs: number;
  json: boolean;
  specDir?: string;
}

const where = (path: string): string => resolve(process.env.INIT_CWD ?? process.cwd(), path);

/** Milliseconds: digits, optionally followed by `ms` or `s`. */
export function parseMs(text: string, what: string): number {
  const m = /^(\d+)(ms|s)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${what} must be milliseconds (1500, 1500ms or 2s), found ${JSON.stringify(text)}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

function parseTarget(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--server must be HOST:PORT, found ${JSON.stringify(text)}`);
  return { host: (m[1] ?? m[2]) as string, port: parsePort(m[3] as string, '--server port') };
}

function readToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(where(path), 'utf8');
  } catch (err) {
    throw new UsageError(`--token-file: cannot read ${path}: ${(err as Error).message}`);
  }
  const token = text.replace(/\r?\n$/, '');
  if (token.length === 0) throw new UsageError(`--token-file: ${path} is empty`);
  return token;
}

export function parseOptions(argv: readonly string[]): Options {
  const { values: v } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      server: { type: 'string' },
      'token-file': { type: 'string' },
      'handshake-timeout': { type: 'string' },
      'transfer-timeout': { type: 'string' },
      'max-per-address': { type: 'string' },
      'max-pending': { type: 'string' },
      'max-wait': { type: 'string' },
      'max-send': { type: 'string' },
      'client-dict': { type: 'string' },
      'client-file': { type: 'string' },
      cases: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      'spec-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const only = v.cases === undefined ? [] : v.cases.split(',').map((s) => s.trim());
  if (only.some((s) => !/^\d+(\.\d+)*$/.test(s))) throw new UsageError(`--cases takes numbers like 4.3,5.4.2`);
  const base = {
    only,
    answerMs: v.timeout === undefined ? 5000 : parseMs(v.timeout, '--timeout'),
    json: v.json === true,
    ...(v['spec-dir'] !== undefined ? { specDir: where(v['spec-dir']) } : {}),
  };
  if (v.help) return { mode: 'help', ...base };
  const clientMode = v['client-dict'] !== undefined || v['client-file'] !== undefined;
  if (v.server !== undefined && clientMode) throw new UsageError('give --server or the client commands, not both');
  if (v.list) return { mode: 'list', ...base };
  if (clientMode) {
    if (v['client-dict'] === undefined || v['client-file'] === undefined) {
      throw new UsageError('client mode needs both --client-dict and --client-file');
    }
    return { mode: 'client', client: { dictCommand: v['client-dict'], fileCommand: v['client-file'] }, ...base };
  }
  if (v.server === undefined) throw new UsageError('give --server HOST:PORT, or the client commands');
  const opt = <T>(text: string | undefined, parse: (t: string) => T): T | undefined =>
    text === undefined ? undefined : parse(text);
  const server: ServerModeOptions = {
    ...parseTarget(v.server),
    maxWaitMs: v['max-wait'] === undefined ? 15_000 : parseMs(v['max-wait'], '--max-wait'),
    maxSendBytes: v['max-send'] === undefined ? 64 * 1024 * 1024 : parseCount(v['max-send'], '--max-send'),
  };
  const extra = {
    token: opt(v['token-file'], readToken),
    handshakeTimeoutMs: opt(v['handshake-timeout'], (t) => parseMs(t, '--handshake-timeout')),
    transferTimeoutMs: opt(v['transfer-timeout'], (t) => parseMs(t, '--transfer-timeout')),
    maxPerAddress: opt(v['max-per-address'], (t) => parseCount(t, '--max-per-address', { max: 10_000 })),
    maxPending: opt(v['max-pending'], (t) => parseCount(t, '--max-pending', { max: 10_000 })),
  };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) Object.assign(server, { [key]: value });
  return { mode: 'server', server, ...base };
}
