/**
 * The client's errors: its error classes, the exit codes (documented in docs/CLIENT.md, "Exit codes"), the one
 * mapping from an error to a code, and how an error is told to a person. Only `main.ts` turns them into a process
 * exit; everything below it throws.
 */
import { UsageError } from '@proj/cli-kit';
import { isConnectionFailure, isProtocolError } from '@proj/protocol';

export const ExitCode = {
  /** The server acknowledged every item and every receipt matched what was sent. */
  Ok: 0,
  /** Anything not covered below (a file that fails while it is read, an encryption failure, a bug). */
  Failure: 1,
  /** Bad flags or arguments, `--data` that is not a JSON object, a file that does not exist. */
  Usage: 2,
  /** Nobody listens, the connection failed or was lost and the retries ran out, or a timeout. */
  Connection: 3,
  /** The server refused (its code is printed: ERR_AUTH, ERR_FILE_TOO_LARGE, ERR_DICT_INVALID…). */
  Refused: 4,
  /** The server's receipt does not match what was sent (size or SHA-256). */
  ReceiptMismatch: 5,
  /** Ctrl-C: the person left; the connection was closed politely when there was one. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A usage error whose message is already on standard error (commander printed it). */
export class ReportedUsageError extends UsageError {
  readonly reported = true;
}

/** The person pressed Ctrl-C at a prompt or during a send: exit code 130. */
export class InterruptedError extends Error {
  readonly code = 'ERR_INTERRUPTED';
  constructor(message = 'interrupted') {
    super(message);
    this.name = 'InterruptedError';
  }
}

/** True when `err` means the connection failed or was lost (not a refusal from the server): the library's rule. */
export { isConnectionFailure };

/** The exit code for an error that reached the entry point. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof UsageError) return ExitCode.Usage;
  if (err instanceof InterruptedError) return ExitCode.Interrupted;
  if (isConnectionFailure(err)) return ExitCode.Connection;
  // @proj/crypto refusing a recipient or key given on the command line.
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_CRYPTO_OPTIONS' || code === 'ERR_KEY_FILE') return ExitCode.Usage;
  if (isProtocolError(err)) {
    if (err.code === 'ERR_RECEIPT_MISMATCH') return ExitCode.ReceiptMismatch;
    // A refusal the server sent us is a refusal, whatever its code (even ERR_TIMEOUT for an idle connection).
    if ((err as { remote?: boolean }).remote === true) return ExitCode.Refused;
    // Local encoder refusals (ERR_DICT_TOO_DEEP, ERR_UNSAFE_INTEGER…) are problems with the input.
    if (LOCAL_INPUT_CODES.has(err.code)) return ExitCode.Usage;
  }
  return ExitCode.Failure;
}

/** Codes raised on this side before anything is sent, because the input cannot be sent as asked. */
const LOCAL_INPUT_CODES: ReadonlySet<string> = new Set([
  'ERR_DICT_INVALID',
  'ERR_DICT_TOO_DEEP',
  'ERR_DICT_TOO_LARGE',
  'ERR_UNSAFE_INTEGER',
  'ERR_FORMAT_UNSUPPORTED',
  'ERR_ID_INVALID',
]);

/**
 * How an error is told to a person: what happened, then its code in parentheses when it has one
 * (`the server refused: authentication failed (ERR_AUTH)`). A usage error has no code shown: exit code 2 says it.
 * The entry point puts `client: error: ` before it (@proj/cli-kit errorLine).
 */
export function describeError(err: unknown): string {
  if (isProtocolError(err)) {
    const remote = (err as { remote?: boolean }).remote === true;
    return `${remote ? 'the server refused: ' : ''}${err.message} (${err.code})`;
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && code.startsWith('ERR_') && code !== 'ERR_USAGE'
      ? `${err.message} (${code})`
      : err.message;
  }
  return String(err);
}

/** The code a failure is reported with in `--json`: its own, or one for its exit code. */
export function jsonCodeFor(err: unknown, exitCode: ExitCode): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_')) return code;
  if (exitCode === ExitCode.Usage) return 'ERR_USAGE';
  if (exitCode === ExitCode.Interrupted) return 'ERR_INTERRUPTED';
  if (exitCode === ExitCode.Connection) return 'ERR_CONNECTION_CLOSED';
  return typeof code === 'string' ? code : 'ERR_CLIENT';
}
