/**
 * The `error` envelope that carries a coded failure to the peer (docs/PROTOCOL.md §3, §7): its code, its message
 * cut to the envelope's bound, and the fields some codes add (ERR_VERSION lists the versions the sender speaks).
 */
import { type ProtocolError, VersionError } from '../errors';
import type { ErrorMessage } from './envelopes';

/** Longest `message` an error envelope carries, in characters. */
const MAX_MESSAGE_CHARS = 4096;

/** The envelope for `err`; `id` names the put it ends (never on a fatal error). */
export function errorEnvelope(err: ProtocolError, options: { fatal: boolean; id?: string }): ErrorMessage {
  return {
    type: 'error',
    code: err.code,
    message: err.message.slice(0, MAX_MESSAGE_CHARS),
    ...(options.id !== undefined ? { id: options.id } : {}),
    fatal: options.fatal,
    ...(err instanceof VersionError ? { supported: [...err.supported] } : {}),
  };
}
