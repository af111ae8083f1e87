/**
 * A connection accepted behind a balancer (`--proxy-protocol`, docs/SERVER.md "Behind a load balancer"): its PROXY
 * protocol v2 header is read (./proxy-protocol.ts) before the session starts, within the handshake timeout. The
 * bytes after the header are put back on the socket, so the session reads the client's first frame as if it had
 * connected directly.
 *
 * A LOCAL header is the balancer's own health check: the session runs as usual (HAProxy's check says hello and
 * expects the welcome), but its log lines only show at debug level and the operator's screen never sees it.
 */
import type { Socket } from 'node:net';
import type { Logger } from './logger';
import { ProxyHeaderDecoder, ProxyHeaderError, type ProxyHeader } from './proxy-protocol';

/**
 * Reads the header from `socket`. Resolves with it once complete, the socket paused and what followed the header
 * unshifted onto it: the caller attaches its reader, then resumes the socket. Rejects with a ProxyHeaderError
 * (ERR_PROXY_TRUNCATED when the socket ends or the time runs out first); the caller closes the socket.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyHeader> {
  return new Promise((resolve, reject) => {
    const decoder = new ProxyHeaderDecoder();
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const fail = (err: ProxyHeaderError, closedByPeer = false): void => {
      finish();
      err.received = decoder.received;
      err.closedByPeer = closedByPeer;
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      let header: ProxyHeader | undefined;
      try {
        header = decoder.feed(chunk);
      } catch (err) {
        fail(err as ProxyHeaderError);
        return;
      }
      if (!header) return;
      finish();
      socket.pause();
      if (header.rest.length > 0) socket.unshift(header.rest);
      resolve({ ...header, rest: Buffer.alloc(0) });
    };
    const onEnd = (): void => {
      try {
        decoder.end();
      } catch (err) {
        fail(err as ProxyHeaderError, true);
      }
    };
    const onError = (err: Error): void => {
      const why = (err as NodeJS.ErrnoException).code ?? err.message;
      fail(new ProxyHeaderError('ERR_PROXY_TRUNCATED', `the connection failed (${why}) in its PROXY header`), true);
    };
    const timer = setTimeout(
      () =>
        fail(
          new ProxyHeaderError(
            'ERR_PROXY_TRUNCATED',
            `no complete PROXY protocol header within ${timeoutMs} ms (${decoder.received} bytes came)`,
          ),
        ),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
  });
}

/**
 * The logger of a health check's session: its lines show only when the server logs at debug level (or finer),
 * so a check every few seconds does not fill the log. Errors still show.
 */
export function healthCheckLogger(log: Logger): Logger {
  return log.child({ healthCheck: true }, { level: log.isLevelEnabled('debug') ? log.level : 'error' });
}
