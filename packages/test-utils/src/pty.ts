/**
 * Runs a program in a real pseudo-terminal, through util-linux `script`, so that prompts see a TTY.
 * Tests wait for text on the screen with `expect()` and type with `write()`; a question the test did not
 * expect shows up as an `expect()` timeout with the screen so far in the message.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

// CSI and OSC sequences, and the other escapes terminals draw with.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007|\u001b[()][A-Z0-9]|\u001b[=>78]/g;

/** Removes terminal escape sequences. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export interface PtyOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Terminal width; default 120. */
  columns?: number;
}

export class Pty {
  readonly child: ChildProcessWithoutNullStreams;
  #raw = '';
  #cursor = 0;
  readonly exited: Promise<number | null>;

  constructor(command: string, args: readonly string[], options: PtyOptions = {}) {
    const quoted = [command, ...args].map(shellQuote).join(' ');
    const columns = options.columns ?? 120;
    this.child = spawn('script', ['-qfec', `stty cols ${columns} rows 40 2>/dev/null; exec ${quoted}`, '/dev/null'], {
      cwd: options.cwd,
      env: { ...process.env, TERM: 'xterm-256color', FORCE_COLOR: '0', ...options.env },
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text: string) => {
      this.#raw += text;
    });
    this.child.stderr.on('data', (text: Buffer) => {
      this.#raw += text.toString();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Everything drawn so far, escape sequences included (to check what a program draws, colours or none). */
  get raw(): string {
    return this.#raw;
  }

  /** Everything drawn so far, without escape sequences. */
  get screen(): string {
    return stripAnsi(this.#raw);
  }

  /** Types `text` (use `\r` for Enter, `\u001b[B` for arrow down, `\u0003` for Ctrl-C). */
  write(text: string): void {
    this.child.stdin.write(text);
  }

  /**
   * Waits until `pattern` appears in output drawn after the previous match, and moves past it.
   * Rejects after `timeoutMs` with the recent screen in the message.
   */
  async expect(pattern: string | RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = stripAnsi(this.#raw.slice(this.#cursor));
      const match = typeof pattern === 'string' ? indexMatch(rest, pattern) : rest.match(pattern);
      if (match && match.index !== undefined) {
        // Move the cursor in raw text: find the same point by re-stripping prefixes.
        this.#advance(match.index + match[0].length);
        return match[0];
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${String(pattern)}; screen since last match:\n${rest.slice(-2000)}`);
      }
      if (this.child.exitCode !== null && this.child.stdout.readableEnded) {
        throw new Error(
          `program exited (${this.child.exitCode}) before ${String(pattern)}; screen:\n${rest.slice(-2000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Sends Ctrl-C and kills after `graceMs` if still running. */
  async stop(graceMs = 3000): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  #advance(strippedCount: number): void {
    // Walk raw text until `strippedCount` visible characters have passed.
    let visible = 0;
    let i = this.#cursor;
    while (i < this.#raw.length && visible < strippedCount) {
      ANSI.lastIndex = 0;
      const rest = this.#raw.slice(i);
      const m = /^(\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007|\u001b[()][A-Z0-9]|\u001b[=>78])/.exec(rest);
      if (m) {
        i += m[0].length;
        continue;
      }
      i += 1;
      visible += 1;
    }
    this.#cursor = i;
  }
}

function indexMatch(text: string, needle: string): RegExpMatchArray | null {
  const index = text.indexOf(needle);
  if (index < 0) return null;
  const m = [needle] as unknown as RegExpMatchArray;
  m.index = index;
  return m;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
