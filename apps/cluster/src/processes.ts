/**
 * The cluster's processes: started detached (they outlive `pnpm cluster up`), each writing to its own log file,
 * known afterwards by pid only. Stopping sends a signal and waits for the process to be gone.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Launch {
  /** A name for status lines and the log file: `nats-1`, `server-2`, `haproxy`. */
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  log: string;
}

/** Starts `launch` in its own process group, detached from ours; returns its pid. */
export function startDetached(launch: Launch): number {
  mkdirSync(dirname(launch.log), { recursive: true });
  const fd = openSync(launch.log, 'a');
  try {
    const child = spawn(launch.command, launch.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...launch.env },
    });
    if (child.pid === undefined) throw new Error(`${launch.name}: ${launch.command} could not be started`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Whether a process with this pid exists (and is not a zombie we could reap: ours are detached). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends `signal`; after `graceMs` without an exit, SIGKILL. Resolves once the process is gone. */
export async function stopProcess(pid: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
    }
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until true; throws `what` when `timeoutMs` passes first. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}
