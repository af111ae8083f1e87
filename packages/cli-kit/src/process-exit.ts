/**
 * Ending a command-line program cleanly: everything it wrote reaches the reader before it exits, and a reader
 * that goes away (`client --help | head`) ends it quietly instead of with an EPIPE stack.
 */

/** A stream the program writes to: what exitWhenFlushed needs of process.stdout and process.stderr. */
export interface OutStream {
  write(chunk: string, callback?: (err?: Error | null) => void): boolean;
  readonly writable: boolean;
  readonly destroyed: boolean;
  readonly writableLength: number;
}

/** Without progress for this long, a reader that stopped reading is given up on. */
export const STALLED_MS = 5000;

/**
 * Calls `exit(code)` once every stream's queued writes have reached the operating system. Writes to a pipe are
 * asynchronous: exiting with writes queued loses them (`list --json | slow-reader` got 208 lines of 800). A
 * write's callback runs after every earlier write on that stream, so an empty write marks the end. A reader that
 * reads slowly is waited for; one that stopped (a pipe nobody drains) is given up after STALLED_MS without
 * progress. The exit stays explicit: a handle left open must not keep a finished command alive.
 */
export function exitWhenFlushed(
  code: number,
  streams: readonly OutStream[],
  exit: (code: number) => void = (c) => process.exit(c),
): void {
  process.exitCode = code;
  const open = streams.filter((s) => s.writable && !s.destroyed);
  let pending = open.length;
  let watch: NodeJS.Timeout | undefined;
  const done = (): void => {
    if (watch) clearInterval(watch);
    exit(code);
  };
  if (pending === 0) {
    done();
    return;
  }
  for (const stream of open) {
    stream.write('', () => {
      pending -= 1;
      if (pending === 0) done();
    });
  }
  let left = queued(open);
  watch = setInterval(() => {
    const now = queued(open);
    if (now >= left) done();
    left = now;
  }, STALLED_MS);
  watch.unref();
}

function queued(streams: readonly OutStream[]): number {
  return streams.reduce((n, s) => n + s.writableLength, 0);
}

/** Ends the process with code 0 when a reader of `streams` goes away (EPIPE); other errors are thrown. */
export function quietOnEpipe(streams: readonly NodeJS.EventEmitter[]): void {
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}

/**
 * The arguments as the program should read them. pnpm passes every word after `start` through verbatim, and
 * takes `--help` for itself, so the way to ask a script for its help is `pnpm --filter server start -- --help`:
 * the leading `--` reaches the program, which drops it (it would otherwise end option parsing).
 */
export function programArgs(argv: readonly string[]): string[] {
  return argv[0] === '--' ? argv.slice(1) : [...argv];
}
