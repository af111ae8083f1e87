/**
 * The metrics address (`--metrics HOST:PORT`, off by default; docs/SERVER.md §12): a plain HTTP server apart from
 * the protocol port, answering `GET /metrics` (Prometheus text) and `GET /healthz` (200 `ok` while the server takes
 * puts, 503 `stopping` once it shuts down). Nothing else is served; it reads no request body. node:http is loaded
 * only when metrics are served: a server without `--metrics` does not carry it (docs/BENCHMARKS.md, "Memory").
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '@proj/cli-kit';
import type { ServerMetrics } from './metrics';

export interface MetricsEndpoint {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** `127.0.0.1:9464`, `[::1]:9464`, `:9464` (127.0.0.1) → host and port. */
export function parseMetricsAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65_535) {
    throw new UsageError(`--metrics: expected HOST:PORT such as 127.0.0.1:9464, got ${JSON.stringify(text)}`);
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** Serves `metrics` on `address`; `healthy()` says whether /healthz answers 200. */
export async function serveMetrics(
  address: string,
  metrics: ServerMetrics,
  healthy: () => boolean,
): Promise<MetricsEndpoint> {
  const { host, port } = parseMetricsAddress(address);
  const { createServer } = require('node:http') as typeof import('node:http');
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      metrics.text().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (path === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'stopping\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics or /healthz\n');
  });
  // Scrapers keep connections open: they must not hold up a shutdown.
  server.keepAliveTimeout = 5000;
  server.listen({ host, port });
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw err;
    }),
  ]);
  const bound = server.address() as AddressInfo;
  return {
    host: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
