/**
 * Structured logs: pino JSON lines on standard error (or a stream the caller passes). Human-readable lines for
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
 */
import pino from 'pino';
import type { Writable } from 'node:stream';
import { Backlog } from './output/backlog';
import { jsonSafe } from './output/printable';

export type Logger = pino.Logger;

/** The most log text left unwritten on the stream before lines are dropped. */
export const LOG_BACKLOG_BYTES = 1024 * 1024;

/** Streams already given an error listener by this module (process.stderr is shared by every logger). */
const guarded = new WeakSet<Writable>();

export function createLogger(level: string, destination?: Writable, maxBacklogBytes = LOG_BACKLOG_BYTES): Logger {
  const stream = destination ?? process.stderr;
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
      if (!backlog.offer(() => jsonSafe(line))) dropped += 1;
    },
  };
  logger = pino({ level, base: { name: 'server' } }, sink);
  return logger;
}
