/**
 * Shared pieces of the reliability suite (docs/RELIABILITY.md): the short/long switch, a seeded PRNG, the
 * data-directory audit every test ends with, a server run as a child process (for SIGKILL, RSS and argv checks),
 * a tolerant raw client for hostile sessions, and the figures file the long form writes.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { makeTempDir, sha256Hex } from '@proj/test-utils';
import { once } from 'node:events';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { lstat, open, readdir, readFile, statfs, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FrameDecoder, parseServerMessage, type ServerMessage } from '@proj/protocol/wire';

/** `RELIABILITY_LONG=1` selects the long form (bigger counts and durations). */
export const LONG = process.env.RELIABILITY_LONG === '1';

/** Picks the short or the long figure. */
export function scale<T>(short: T, long: T): T {
  return LONG ? long : short;
}

export const SERVER_DIR = resolve(__dirname, '../..');
export const MAIN_JS = join(SERVER_DIR, 'dist/main.js');

// -- seeded PRNG ----------------------------------------------------------------------------------------------------

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Rng {
  #s: number;
  constructor(readonly seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
}

/** The base seed: `RELIABILITY_SEED` replays a failing run; otherwise a fresh one, printed on failure. */
export function baseSeed(): number {
  const env = process.env.RELIABILITY_SEED;
  return env ? Number(env) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** SHA-256 in lowercase hex: the shared test helper, under the name the suite uses. */
export const sha256 = sha256Hex;

// -- figures ----------------------------------------------------------------------------------------------------------

/** Where figures go: `RELIABILITY_FIGURES`, or a file in the temp dir. One JSON object per line. */
export const FIGURES_FILE = process.env.RELIABILITY_FIGURES ?? join(tmpdir(), 'proj-reliability-figures.jsonl');

export function recordFigures(test: string, figures: Record<string, unknown>): void {
  appendFileSync(FIGURES_FILE, `${JSON.stringify({ test, long: LONG, at: new Date().toISOString(), ...figures })}\n`);
}

// -- the data-directory audit ---------------------------------------------------------------------------------------

export interface Audit {
  receipts: number;
  items: number;
  temps: string[];
  /** Journal segments (`<serverId>.<n>.log`). */
  journal: string[];
  /** What `partials/` holds (cut file puts kept for a resume): never items, listed, not judged. */
  partials: string[];
  /** Everything wrong: an item without a receipt, a receipt without its item, a hash mismatch, a stray file. */
  problems: string[];
  /** Receipts by put id. */
  byId: Map<string, { path: string; sha256: string; bytes: number }>;
}

const TOP_LEVEL = new Set(['items', 'receipts', 'tmp', 'journal', 'locks', 'partials', 'identity.txt']);

/**
 * Checks the promise on a data directory: every receipt points to an item whose bytes match it (size and
 * SHA-256), every item has a receipt, nothing lies outside `items/`, `receipts/`, `tmp/`, `journal/`, `partials/`
 * and the identity. Temporaries, journal segments and partials are listed, not judged: the caller knows whether
 * some may be live.
 *
 * It judges a directory at rest. A server alone in its directory writes an item's files just after the
 * acknowledgement (the journal is the commit point: src/store/materialiser.ts), so a child server's directory is
 * audited after a clean stop (SIGTERM), which writes them, or after a kill, whose restart replays them.
 */
export async function auditDataDir(dataDir: string): Promise<Audit> {
  const problems: string[] = [];
  for (const name of await readdir(dataDir)) {
    if (!TOP_LEVEL.has(name)) problems.push(`stray entry at the top of the data directory: ${name}`);
  }
  const byId = new Map<string, { path: string; sha256: string; bytes: number }>();
  const referenced = new Set<string>();
  const receiptsDir = join(dataDir, 'receipts');
  const receiptNames = existsSync(receiptsDir) ? await readdir(receiptsDir) : [];
  for (const name of receiptNames) {
    const full = join(receiptsDir, name);
    if (!(await lstat(full)).isFile() || !name.endsWith('.json')) {
      problems.push(`stray entry in receipts/: ${name}`);
      continue;
    }
    let r: { id: string; path: string; sha256: string; bytes: number; plaintextPath?: string };
    try {
      r = JSON.parse(await readFile(full, 'utf8'));
    } catch {
      problems.push(`unreadable receipt ${name}`);
      continue;
    }
    if (name !== `${r.id.replace(/:/g, '%3A')}.json`) problems.push(`receipt ${name} holds id ${r.id}`);
    if (!/^items\/\d{4}-\d{2}-\d{2}\/[^/]+$/.test(r.path) || r.path.includes('..'))
      problems.push(`receipt ${name}: bad path ${r.path}`);
    byId.set(r.id, { path: r.path, sha256: r.sha256, bytes: r.bytes });
    referenced.add(r.path);
    if (r.plaintextPath) referenced.add(r.plaintextPath);
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dataDir, r.path));
    } catch {
      problems.push(`receipt ${r.id}: item ${r.path} is missing`);
      continue;
    }
    if (bytes.length !== r.bytes || sha256(bytes) !== r.sha256)
      problems.push(`receipt ${r.id}: item ${r.path} does not match (size or SHA-256)`);
  }
  let items = 0;
  const itemsDir = join(dataDir, 'items');
  for (const day of existsSync(itemsDir) ? await readdir(itemsDir) : []) {
    const dayDir = join(itemsDir, day);
    if (!(await lstat(dayDir)).isDirectory() || !/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      problems.push(`stray entry in items/: ${day}`);
      continue;
    }
    for (const name of await readdir(dayDir)) {
      items += 1;
      if (!referenced.has(`items/${day}/${name}`)) problems.push(`item without a receipt: items/${day}/${name}`);
      if (!(await lstat(join(dayDir, name))).isFile())
        problems.push(`item is not a regular file: items/${day}/${name}`);
    }
  }
  const tmpDir = join(dataDir, 'tmp');
  const temps = existsSync(tmpDir) ? await readdir(tmpDir) : [];
  const journalDir = join(dataDir, 'journal');
  const journal = existsSync(journalDir) ? await readdir(journalDir) : [];
  const partialsDir = join(dataDir, 'partials');
  const partials = existsSync(partialsDir) ? await readdir(partialsDir) : [];
  return { receipts: byId.size, items, temps, journal, partials, problems, byId };
}

/**
 * The other half of checkAcknowledged, for a server only the test's clients use: every receipt in the data
 * directory was sent to some client (`acked`: put ids with the receipts the clients got). Together they prove
 * receipts sent = receipts stored; a put stored and never answered (as a half-closed session's once were) shows
 * up here. Returns the problems.
 */
export function checkStoredWereAcknowledged(audit: Audit, acked: { has(id: string): boolean }): string[] {
  const problems: string[] = [];
  for (const id of audit.byId.keys())
    if (!acked.has(id)) problems.push(`stored ${id} was never acknowledged to a client`);
  return problems;
}

/** Checks that each receipt a client got is in the data directory, unchanged. Returns the problems. */
export function checkAcknowledged(
  audit: Audit,
  acked: Iterable<{ id: string; path: string; sha256: string; bytes: number }>,
): string[] {
  const problems: string[] = [];
  for (const r of acked) {
    const found = audit.byId.get(r.id);
    if (!found) problems.push(`acknowledged ${r.id} has no receipt on disk`);
    else if (found.path !== r.path || found.sha256 !== r.sha256 || found.bytes !== r.bytes)
      problems.push(`acknowledged ${r.id} differs on disk`);
  }
  return problems;
}

// -- a tolerant raw client ------------------------------------------------------------------------------------------

/**
 * A raw socket that records every server message, and whether the server sent anything that is not a valid
 * frame or envelope (which is a failure of its own). Never throws from an event handler.
 */
export class Probe {
  readonly socket: net.Socket;
  readonly messages: ServerMessage[] = [];
  readonly garbage: string[] = [];
  closed = false;
  readonly closedAt: Promise<void>;
  #decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 });
  #listeners: Array<() => void> = [];

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of this.#decoder.push(chunk)) {
          try {
            this.messages.push(parseServerMessage(f.payload));
          } catch (err) {
            this.garbage.push(`bad envelope: ${(err as Error).message}`);
          }
        }
      } catch (err) {
        this.garbage.push(`bad frame: ${(err as Error).message}`);
      }
      for (const l of this.#listeners.splice(0)) l();
    });
    socket.on('error', () => undefined);
    this.closedAt = new Promise((r) =>
      socket.on('close', () => {
        this.closed = true;
        for (const l of this.#listeners.splice(0)) l();
        r();
      }),
    );
  }

  /** `allowHalfOpen`: the probe may shut down its writing side (`end()`) and still read every answer. */
  static async connect(port: number, host = '127.0.0.1', opts: { allowHalfOpen?: boolean } = {}): Promise<Probe> {
    const socket = net.connect({ host, port, allowHalfOpen: opts.allowHalfOpen ?? false });
    await once(socket, 'connect');
    return new Probe(socket);
  }

  /** Waits until `pred` holds, or the socket closes, or `timeoutMs`. Returns whether `pred` held. */
  async until(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.closed) return pred();
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#listeners.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Shuts down the writing side (a FIN), as `nc -N` and socat do once they have sent everything. */
  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }
}

// -- a server in a child process ------------------------------------------------------------------------------------

export interface ChildServer {
  child: ChildProcess;
  pid: number;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resident set size now and its peak, in KiB, from /proc/<pid>/status. */
  memory(): { rssKiB: number; hwmKiB: number };
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Builds the server once per test file (the tests run `dist/main.js`). */
export function buildServer(): void {
  const r = spawnSync('npx', ['tsc', '-b'], { cwd: SERVER_DIR, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc -b failed:\n${r.stdout}\n${r.stderr}`);
}

/** What a run of the program to its end gave. */
export interface ProgramRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * `node dist/main.js …args` to its end (an operator's command, say): its exit code and what it printed. The
 * environment is this process's, with `INIT_CWD` cleared (relative paths resolve from `cwd`) and `env` over it.
 */
export async function runProgram(
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ProgramRun> {
  const child = spawn(process.execPath, [MAIN_JS, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, INIT_CWD: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout: Buffer.concat(out), stderr: err };
}

/**
 * Runs `node dist/main.js --port 0 --data-dir D --no-prompt …` under bash (for `ulimit -n` and `umask`), and
 * resolves once it prints where it listens. `wrap` goes before `node` (`unshare --pid --fork --kill-child`).
 */
export async function spawnServer(
  dataDir: string,
  args: string[] = [],
  opts: { nofile?: number; umask?: string; env?: NodeJS.ProcessEnv; wrap?: string[] } = {},
): Promise<ChildServer> {
  const quoted = [MAIN_JS, '--port', '0', '--data-dir', dataDir, '--no-prompt', '--output', 'file', ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const script = `${opts.nofile ? `ulimit -n ${opts.nofile}; ` : ''}${opts.umask ? `umask ${opts.umask}; ` : ''}exec ${(opts.wrap ?? []).map((a) => `'${a}' `).join('')}node ${quoted}`;
  const child = spawn('bash', ['-c', script], {
    cwd: SERVER_DIR,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  const deadline = Date.now() + 20_000;
  let port = 0;
  while (port === 0) {
    const m = /listening on [^\s]*:(\d+)/.exec(out);
    if (m) port = Number(m[1]);
    else if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${out}\n${err}`);
    else await new Promise((r) => setTimeout(r, 20));
  }
  const pid = child.pid as number;
  return {
    child,
    pid,
    port,
    stdout: () => out,
    stderr: () => err,
    exited,
    memory: () => readMemory(pid),
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export function readMemory(pid: number): { rssKiB: number; hwmKiB: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    const hwm = /VmHWM:\s+(\d+)/.exec(status);
    return { rssKiB: Number(rss?.[1] ?? 0), hwmKiB: Number(hwm?.[1] ?? 0) };
  } catch {
    return { rssKiB: 0, hwmKiB: 0 };
  }
}

/**
 * User + system CPU seconds so far of a process (all its threads), or of one of its threads: the main thread's id
 * is the process id. Fields 14 and 15 of /proc/<pid>[/task/<tid>]/stat, in clock ticks.
 */
export function cpuSeconds(pid: number, thread?: number): number {
  const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 on; the name may hold spaces
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A small tmpfs mounted for a full-disk test (as root). */
export type Tmpfs = { path: string; unmount(): void };

/** Mounts an 8 MiB tmpfs on a new temporary directory; throws where `mount` fails (see `itWithTmpfs`). */
export async function mountTmpfs(prefix: string): Promise<Tmpfs> {
  const dir = await makeTempDir(prefix);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', dir.path], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir.path, { recursive: true, force: true });
    throw new Error(`cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()})`);
  }
  return {
    path: dir.path,
    unmount: () => {
      execFileSync('umount', [dir.path]);
      rmSync(dir.path, { recursive: true, force: true });
    },
  };
}

/**
 * Fills a mounted file system to its last byte. First writes `pages` files of one 4 KiB page each, which a test
 * removes to free exactly that much room later; returns their paths and the filler's (remove it to free the rest).
 */
export async function fillToTheByte(mountPoint: string, pages: number): Promise<{ pages: string[]; filler: string }> {
  mkdirSync(join(mountPoint, 'pages'));
  const paths = Array.from({ length: pages }, (_, i) => join(mountPoint, 'pages', String(i)));
  for (const p of paths) await writeFile(p, Buffer.alloc(4096, 1));
  const filler = join(mountPoint, 'filler');
  const h = await open(filler, 'w');
  try {
    for (;;) await h.write(Buffer.alloc(64 * 1024));
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
  }
  try {
    for (;;) await h.write(Buffer.alloc(1));
  } catch {
    // full to the byte
  }
  await h.close();
  expect((await statfs(mountPoint)).bavail).toBe(0);
  return { pages: paths, filler };
}

let tmpfsProbe: { reason?: string } | undefined;

/** Why no tmpfs can be mounted here (not root, no `mount`), found once by mounting one; undefined where it can. */
export function tmpfsUnavailable(): string | undefined {
  if (tmpfsProbe === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'tmpfs-probe-'));
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
    if (r.status === 0) {
      spawnSync('umount', [dir]);
      tmpfsProbe = {};
    } else {
      tmpfsProbe = {
        reason: `cannot mount a tmpfs here: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`,
      };
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return tmpfsProbe.reason;
}

/**
 * `it` for a test that needs something this machine may lack. Where `missing` names what is lacking, the test is
 * reported as skipped with that reason in its title, instead of passing without having run.
 */
export function itUnless(missing: string | undefined, title: string, fn: () => Promise<void>, timeout?: number): void {
  if (missing === undefined) it(title, fn, timeout);
  else it.skip(`${title} [skipped: ${missing}]`, fn, timeout);
}

/** `it` for a test that mounts a tmpfs of its own (a full disk); skipped with the reason where none can be mounted. */
export function itWithTmpfs(title: string, fn: () => Promise<void>, timeout?: number): void {
  itUnless(tmpfsUnavailable(), title, fn, timeout);
}
