/**
 * The server's Prometheus metrics (docs/SERVER.md §12), kept with prom-client in a registry of their own (never
 * the library's global one, so two servers in one process do not mix their counts): items and bytes stored,
 * refusals by error code, connections, and how long the durable commit of an item takes. They are served by
 * ./metrics-http.ts, only when `--metrics` gives an address. prom-client is loaded by the first ServerMetrics: a
 * server without `--metrics` never loads it (docs/BENCHMARKS.md, "Memory").
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Commit latency buckets, in seconds: a batched fdatasync takes milliseconds, a slow disk up to seconds. */
const COMMIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type ItemKind = 'dict' | 'file';

export class ServerMetrics {
  readonly registry: Registry;
  readonly #items: Counter<'kind'>;
  readonly #bytes: Counter<'kind'>;
  readonly #refusals: Counter<'code'>;
  readonly #connections: Gauge;
  readonly #accepted: Counter;
  readonly #commit: Histogram<'kind'>;

  constructor() {
    const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } =
      require('prom-client') as typeof import('prom-client');
    this.registry = new Registry();
    const registers = [this.registry];
    this.#items = new Counter({
      name: 'proj_items_stored_total',
      help: 'Items stored (acknowledged with a receipt), duplicates not counted',
      labelNames: ['kind'],
      registers,
    });
    this.#bytes = new Counter({
      name: 'proj_stored_bytes_total',
      help: 'Bytes of the items stored, as the clients sent them',
      labelNames: ['kind'],
      registers,
    });
    this.#refusals = new Counter({
      name: 'proj_refusals_total',
      help: 'Error envelopes sent to clients, by code (docs/PROTOCOL.md section 7)',
      labelNames: ['code'],
      registers,
    });
    this.#connections = new Gauge({
      name: 'proj_connections',
      help: 'Connections open now (waiting for their hello or served)',
      registers,
    });
    this.#accepted = new Counter({
      name: 'proj_connections_total',
      help: 'Connections accepted since the start',
      registers,
    });
    this.#commit = new Histogram({
      name: 'proj_commit_seconds',
      help: 'Time from handing an item to the store to its durable commit',
      labelNames: ['kind'],
      buckets: COMMIT_BUCKETS,
      registers,
    });
    for (const kind of ['dict', 'file'] as const) {
      this.#items.inc({ kind }, 0);
      this.#bytes.inc({ kind }, 0);
    }
    collectDefaultMetrics({ register: this.registry, prefix: 'proj_server_' });
  }

  /** An item was stored (not a duplicate): `seconds` its commit took. */
  stored(kind: ItemKind, bytes: number, seconds: number): void {
    this.#items.inc({ kind });
    this.#bytes.inc({ kind }, bytes);
    this.#commit.observe({ kind }, seconds);
  }

  /** An error envelope went out with `code`. */
  refused(code: string): void {
    this.#refusals.inc({ code });
  }

  connectionOpened(): void {
    this.#connections.inc();
    this.#accepted.inc();
  }

  connectionClosed(): void {
    this.#connections.dec();
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
