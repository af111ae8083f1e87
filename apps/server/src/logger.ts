/**
 * Structured logs: pino JSON lines on standard error (or a stream the caller passes); at a terminal, pino-pretty's
 * readable lines instead (`LogFormat`). Human-readable lines for
 * the operator go to standard output through ./output/output.ts instead. Secrets (token, passphrase, identity) are never
 * logged: nothing here receives them.
 *
 * Two guards sit between pino and the stream. Log fields carry client strings (a hello's `agent`, error messages
 * quoting a file name) and pino escapes C0 but not DEL, C1 or the bidi controls, which a terminal showing the log
 * acts on: each line is made safe (./output/printable.ts `jsonSafe`; still valid JSON, the same values). And the log
 * must not hold the server up or fill its memory when standard error is a pipe nobody reads: pino's synchronous
 * destination retried a full pipe forever with the event loop stopped (the server stopped answering everyone),
 * and an asynchronous one queues without limit. Lines go to Node's own stream instead (synchronous for files and
 * terminals, asynchronous for pipes), and while more than LOG_BACKLOG_BYTES wait unwritten, lines are dropped and
 * counted; once the stream drains, one warning says how many.
 *
 * pino-pretty is loaded only for a logger that writes pretty lines: a service, whose standard error is a pipe or
 * journald, never loads it (docs/BENCHMARKS.md, "Memory").
 */
import pino from 'pino';
import type { Writable } from 'node:stream';
import { Backlog } from './output/backlog';
import { jsonSafe, printableText } from './output/printable';

export type Logger = pino.Logger;

/** The most log text left unwritten on the stream before lines are dropped. */
export const LOG_BACKLOG_BYTES = 1024 * 1024;

/** Streams already given an error listener by this module (process.stderr is shared by every logger). */
const guarded = new WeakSet<Writable>();

/**
 * How log lines are written: `json` (one pino object per line), `pretty` (pino-pretty's readable lines), or
 * `auto`: pretty when the logger writes to standard error and that is a terminal, JSON otherwise (a pipe, a file,
 * journald), so that machines get JSON and people get text.
 */
export type LogFormat = 'auto' | 'json' | 'pretty';

export function createLogger(
  level: string,
  destination?: Writable,
  maxBacklogBytes = LOG_BACKLOG_BYTES,
  format: LogFormat = 'auto',
): Logger {
  const stream = destination ?? process.stderr;
  const pretty = format === 'pretty' || (format === 'auto' && destination === undefined && process.stderr.isTTY);
  const render = pretty ? prettyRenderer(colorsWanted(stream)) : jsonSafe;
  if (!guarded.has(stream)) {
    guarded.add(stream);
    // A reader that goes away (EPIPE) must not crash a server over its log; what is not written is lost either way.
    stream.on('error', () => undefined);
  }
  let dropped = 0;
  let logger: Logger | undefined;
  const backlog = new Backlog(stream, maxBacklogBytes, () => {
    const n = dropped;
    dropped = 0;
    logger?.warn({ dropped: n }, 'standard error fell behind: log lines dropped');
  });
  const sink = {
    write(line: string): void {
      if (!backlog.offer(() => render(line))) dropped += 1;
    },
  };
  logger = pino({ level, base: { name: 'server' } }, sink);
  return logger;
}

/** Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
function colorsWanted(stream: Writable): boolean {
  const noColor = process.env.NO_COLOR;
  return (stream as { isTTY?: boolean }).isTTY === true && (noColor === undefined || noColor === '');
}

/**
 * pino-pretty's own formatting of a JSON line. It prints string values as they are, so every string is made inert
 * first (client text may hold escape sequences; ./output/printable.ts), keeping the newlines of a stack trace.
 */
function prettyRenderer(colorize: boolean): (line: string) => string {
  const { prettyFactory } = require('pino-pretty') as typeof import('pino-pretty');
  const prettify = prettyFactory({
    colorize,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    singleLine: false,
  });
  return (line) => {
    try {
      return prettify(inert(JSON.parse(line)));
    } catch {
      return jsonSafe(line);
    }
  };
}

function inert(value: unknown): unknown {
  if (typeof value === 'string') return printableText(value);
  if (Array.isArray(value)) return value.map(inert);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [printableText(k), inert(v)]));
  }
  return value;
}
