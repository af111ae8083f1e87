/**
 * Structured logs: pino JSON lines on standard error (or a stream the caller passes). Human-readable lines for
 * the operator go to standard output through ./output.ts instead. Secrets (token, passphrase, identity) are never
 * logged: nothing here receives them.
 */
import pino from 'pino';
import type { Writable } from 'node:stream';

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: Writable): Logger {
  const stream = destination ?? pino.destination({ fd: 2, sync: true });
  return pino({ level, base: { name: 'server' } }, stream);
}
