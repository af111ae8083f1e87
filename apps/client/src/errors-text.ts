/** How an error is told to a person: its code first when it has one, then what happened. */
import { isProtocolError } from '@proj/protocol';

export function describeError(err: unknown): string {
  if (isProtocolError(err)) {
    const remote = (err as { remote?: boolean }).remote === true;
    return `${remote ? 'the server refused: ' : ''}${err.code}: ${err.message}`;
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && code.startsWith('ERR_') && code !== 'ERR_USAGE' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
