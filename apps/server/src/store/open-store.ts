/**
 * Picks the store from the `--store` setting (docs/SERVER.md, "Where items are kept"): the data directory by
 * default, or a NATS JetStream cluster for `nats://h1:4222,h2:4222,…`. The JetStream backend (./jetstream/*) is
 * required only then, and the NATS libraries only when it connects (./jetstream/connection.ts loadNats, a dynamic
 * import), so a server with the local store loads neither: fewer module sources and compiled functions in its heap
 * (docs/SERVER.md §12, "Memory").
 */
import type { Logger } from '../logger';
import type { ItemCatalog, ItemStore } from './item-store';
import { parseNatsServers, readNatsCredentials } from './jetstream/options';
import type { JetStreamStore } from './jetstream/jetstream-store';
import { LocalCatalog } from './local-catalog';
import { Store } from './store';

export interface StoreSetting {
  /** `nats://…` (anything else is a usage error), or undefined for the data directory. */
  store?: string;
  /** The credentials file of a `nats://` store. */
  storeCredentials?: string;
  dataDir: string;
}

/** Opens a server's store: the data directory (locked, recovered), or the cluster (connected, buckets made). */
export async function openItemStore(
  setting: StoreSetting,
  context: { serverId: string; log: Logger; maxDictBytes: number; partialTtlMs?: number },
): Promise<ItemStore> {
  if (!setting.store) return Store.open(setting.dataDir, context.serverId, context.log, {}, context.partialTtlMs);
  return jetStreamStore().open({
    ...(await clusterAccess(setting.store, setting.storeCredentials)),
    serverId: context.serverId,
    log: context.log,
    maxDictBytes: context.maxDictBytes,
    ...(context.partialTtlMs !== undefined ? { partialTtlMs: context.partialTtlMs } : {}),
  });
}

/** Opens the store for an operator's command that reads (`list`): it collects nothing and holds no lock. */
export async function openItemCatalog(
  setting: StoreSetting,
  context: { serverId: string; log: Logger },
): Promise<ItemCatalog> {
  if (!setting.store) return LocalCatalog.open(setting.dataDir);
  return jetStreamStore().open({
    ...(await clusterAccess(setting.store, setting.storeCredentials)),
    serverId: context.serverId,
    log: context.log,
    clean: false,
  });
}

/** The cluster's servers from `--store`, and the credentials read from `--store-credentials` when given. */
async function clusterAccess(store: string, credentialsFile: string | undefined) {
  const servers = parseNatsServers(store);
  const credentials = credentialsFile ? await readNatsCredentials(credentialsFile) : undefined;
  return { servers, ...(credentials ? { credentials } : {}) };
}

/** The JetStream backend, required at the first `nats://` store (see the top of this file). */
function jetStreamStore(): typeof JetStreamStore {
  return (require('./jetstream/jetstream-store') as typeof import('./jetstream/jetstream-store')).JetStreamStore;
}
