/**
 * Can the server listen there? Asked before anything else happens (before the data directory is touched and the
 * identity generated), and at the start-up prompt so that a wrong answer is asked again at once: the address is
 * bound for a moment and let go. A port taken between this check and the real listen is still told by the real
 * listen; this only makes the common mistakes plain and early.
 */
import { createServer } from 'node:net';
import { UsageError } from './options';

/** The server cannot listen where asked; `code` is the system's (EADDRINUSE, EADDRNOTAVAIL, EACCES, ENOTFOUND…). */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ListenError';
  }
}

/** Resolves when `host:port` can be listened on; otherwise rejects with a ListenError (or a UsageError) in words. */
export async function checkListen(host: string, port: number): Promise<void> {
  if (host.trim() === '') throw new UsageError('the address to listen on cannot be empty (127.0.0.1, 0.0.0.0, ::)');
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, () => resolve());
    });
  } catch (err) {
    throw listenError(err, host, port);
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  }
}

/** What went wrong, said so that the operator knows what to do. */
export function listenError(err: unknown, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code ?? 'ERR_LISTEN';
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ListenError(
        `cannot listen on ${where}: another program already uses port ${port}; stop it, or choose another port with --port (0 picks a free one)`,
        code,
        { cause: err },
      );
    case 'EACCES':
    case 'EPERM':
      return new ListenError(
        `cannot listen on ${where}: ports below 1024 need root (or CAP_NET_BIND_SERVICE); choose a port from 1024 up with --port`,
        code,
        { cause: err },
      );
    case 'EADDRNOTAVAIL':
      return new UsageError(
        `cannot listen on ${where}: ${host} is not an address of this machine; use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of its own addresses`,
        { cause: err },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new UsageError(
        `cannot listen on ${where}: ${JSON.stringify(host)} is not an address or a known host name; use 127.0.0.1, 0.0.0.0 or one of this machine's addresses`,
        { cause: err },
      );
    default:
      return new ListenError(`cannot listen on ${where}: ${(err as Error).message}`, code, { cause: err });
  }
}
