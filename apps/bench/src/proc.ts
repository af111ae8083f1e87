/**
 * Child processes: run one to completion with its wall time and peak RSS, read a live one's peak RSS from
 * /proc, wait for a line in a log file, stop one and wait for its exit.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export class BenchError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BenchError';
    this.code = code;
  }
}

const GNU_TIME = '/usr/bin/time';

let started = 0;
/** A log file name not used before in this run: `<dir>/<name>-<n>.<ext>`, so a line is never read from a former process. */
export function freshLogFile(dir: string, name: string, ext: string): string {
  started += 1;
  return join(dir, `${name}-${started}.${ext}`);
}

export interface Finished {
  /** Wall time from spawn to exit, in seconds. */
  seconds: number;
  /** Peak resident set size in bytes (GNU time's %M), when /usr/bin/time exists. */
  peakRssBytes?: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command args` to completion and times it from spawn to exit. When /usr/bin/time exists, the command runs
 * under it to learn its peak RSS (GNU time adds about a millisecond). Rejects on a non-zero exit.
 */
export async function runTimed(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<Finished> {
  const timed = existsSync(GNU_TIME);
  const marker = '@@peak-rss-kib=';
  const [cmd, argv] = timed ? [GNU_TIME, ['-f', `${marker}%M`, command, ...args]] : [command, [...args]];
  const start = process.hrtime.bigint();
  const child = spawn(cmd, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = collect(child);
  const code = await exitCode(child);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const { stdout } = out;
  let { stderr } = out;
  let peakRssBytes: number | undefined;
  if (timed) {
    const at = stderr.lastIndexOf(marker);
    if (at >= 0) {
      peakRssBytes = Number.parseInt(stderr.slice(at + marker.length), 10) * 1024;
      stderr = stderr.slice(0, at);
    }
  }
  if (code !== 0) {
    throw new BenchError(
      'ERR_CHILD_FAILED',
      `${command} ${args.join(' ')} exited with ${code}: ${stderr.trim().slice(-2000)}`,
    );
  }
  return { seconds, ...(peakRssBytes !== undefined ? { peakRssBytes } : {}), stdout, stderr };
}

function collect(child: ChildProcess): { stdout: string; stderr: string } {
  const acc = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (acc.stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (acc.stderr += s));
  return acc;
}

/** Resolves with the exit code (or 128 + signal number style: -1 when killed by a signal). */
/**
 * Writes back every dirty page (`sync`), so that a measurement does not pay for the disk writes of the one before
 * it (a dictionary load leaves ~100,000 small files for the kernel to write back some 30 s later).
 */
export async function settleDisk(): Promise<void> {
  await runTimed('sync', []);
}

export function exitCode(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? -1));
  });
}

/** A live process's peak and current RSS in bytes, from /proc/<pid>/status (VmHWM, VmRSS). */
export async function readRss(pid: number): Promise<{ peakBytes: number; currentBytes: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new BenchError('ERR_PROC', `no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { peakBytes: kib('VmHWM'), currentBytes: kib('VmRSS') };
}

/**
 * Polls `file` until `pattern` matches its text or `child` exits; resolves with the match. The child writes its
 * standard output to a file, not a pipe, so that a busy benchmark process never slows it down by reading late.
 */
export async function waitForLine(
  file: string,
  pattern: RegExp,
  child: ChildProcess,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const m = pattern.exec(text);
    if (m) return m;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new BenchError(
        'ERR_CHILD_FAILED',
        `the process exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${text.slice(-2000)}`,
      );
    }
    if (Date.now() > deadline)
      throw new BenchError('ERR_TIMEOUT', `no ${pattern} within ${timeoutMs} ms:\n${text.slice(-2000)}`);
    await sleep(20);
  }
}

/** Sends SIGTERM and waits for the exit; SIGKILL after `graceMs`. */
export async function stop(child: ChildProcess, graceMs = 15_000): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? -1;
  const exited = exitCode(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
