/**
 * Turning whatever was thrown into a code: the code of an error that has one, and the protocol error a failure
 * is answered with (unknown failures become ERR_INTERNAL, their details kept for the log).
 */
import { InternalError, ProtocolError } from '@proj/protocol';
import type { Logger } from './logger';

/** The `code` of `err` when it has a string one (a ProtocolError, a CryptoError, a Node error), else ERR_INTERNAL. */
export function codeOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'ERR_INTERNAL';
}

/** Normalises anything thrown into a coded protocol error; unknown failures become ERR_INTERNAL. */
export function toProtocolError(err: unknown, log: Logger, sender: string): ProtocolError {
  if (err instanceof ProtocolError) return err;
  log.error({ err, sender }, 'unexpected failure');
  return new InternalError('internal error (details in the server log)', { cause: err });
}
