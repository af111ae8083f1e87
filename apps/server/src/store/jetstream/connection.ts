/**
 * The connection to a JetStream cluster, and the places items live there: the receipts KV bucket, the object
 * store of files and the KV bucket of partials (cut puts kept for a resume), made on first use with 3 replicas
 * (docs/SCALE-OUT.md, "Design"). The NATS libraries are loaded here, with a dynamic import, only when a server or
 * a command is given a `nats://` store.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { Authenticator, NatsConnection } from '@nats-io/transport-node';
import { StorageError } from '@proj/protocol';
import type { Logger } from '../../logger';
import { ITEMS_BUCKET, PARTIALS_BUCKET, RECEIPTS_BUCKET } from './names';
import type { NatsCredentials } from './options';
import { DEFAULT_DEADLINE, type Deadline, retry } from './retry';

/** The NATS libraries, loaded on demand. */
export interface NatsLibraries {
  transport: typeof import('@nats-io/transport-node');
  jetstream: typeof import('@nats-io/jetstream');
  kv: typeof import('@nats-io/kv');
  obj: typeof import('@nats-io/obj');
}

let loaded: Promise<NatsLibraries> | undefined;

/** Loads the NATS libraries once per process. */
export function loadNats(): Promise<NatsLibraries> {
  loaded ??= Promise.all([
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
    import('@nats-io/kv'),
    import('@nats-io/obj'),
  ]).then(([transport, jetstream, kv, obj]) => ({ transport, jetstream, kv, obj }));
  return loaded;
}

export interface ConnectOptions {
  servers: string[];
  credentials?: NatsCredentials;
  /** The client name the cluster shows (`proj-server <serverId>`). */
  name: string;
  /** Replicas of the bucket and the object store when this call creates them; default 3. */
  replicas?: number;
  deadline?: Deadline;
  log: Logger;
}

/** An open connection and the handles the store uses. */
export interface JsConnection {
  libs: NatsLibraries;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  receipts: KV;
  /** Partials of cut file puts, by put id (./partials.ts). */
  partials: KV;
  /** The object store's stream (`OBJ_<bucket>`) and subjects prefix (`$O.<bucket>`). */
  itemsStream: string;
  itemsPrefix: string;
  /** The largest message the cluster takes. */
  maxPayload: number;
  deadline: Deadline;
  close(): Promise<void>;
}

function authenticator(libs: NatsLibraries, credentials: NatsCredentials | undefined): Authenticator | undefined {
  const t = libs.transport;
  switch (credentials?.kind) {
    case undefined:
      return undefined;
    case 'creds':
      return t.credsAuthenticator(new TextEncoder().encode(credentials.text));
    case 'user':
      return t.usernamePasswordAuthenticator(credentials.user, credentials.password);
    case 'token':
      return t.tokenAuthenticator(credentials.token);
  }
}

/**
 * Connects (the client reconnects on its own for as long as the process runs) and opens, or creates, the bucket
 * and the object store. Throws ERR_STORAGE when the cluster cannot be reached or refuses.
 */
export async function connectStore(options: ConnectOptions): Promise<JsConnection> {
  const libs = await loadNats();
  const deadline = options.deadline ?? DEFAULT_DEADLINE;
  const replicas = options.replicas ?? 3;
  const auth = authenticator(libs, options.credentials);
  let nc: NatsConnection;
  try {
    nc = await libs.transport.connect({
      servers: options.servers,
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: deadline.attemptMs * 2,
      ...(auth ? { authenticator: auth } : {}),
    });
  } catch (err) {
    throw new StorageError(`cannot connect to the store ${options.servers.join(',')}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    const js = libs.jetstream.jetstream(nc, { timeout: deadline.attemptMs });
    const jsm = await retry('jetstream', () => js.jetstreamManager(), deadline);
    const kvm = new libs.kv.Kvm(js);
    const receipts = await retry(
      'receipts bucket',
      () => kvm.create(RECEIPTS_BUCKET, { replicas, history: 1, storage: libs.jetstream.StorageType.File }),
      deadline,
    );
    const partials = await retry(
      'partials bucket',
      () => kvm.create(PARTIALS_BUCKET, { replicas, history: 1, storage: libs.jetstream.StorageType.File }),
      deadline,
    );
    const objm = new libs.obj.Objm(js);
    await retry('items object store', () => objm.create(ITEMS_BUCKET, { replicas }), deadline);
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    options.log.info({ servers: options.servers, maxPayload }, 'connected to the JetStream store');
    return {
      libs,
      nc,
      js,
      jsm,
      receipts,
      partials,
      itemsStream: `OBJ_${ITEMS_BUCKET}`,
      itemsPrefix: `$O.${ITEMS_BUCKET}`,
      maxPayload,
      deadline,
      close: async () => {
        await nc.drain().catch(() => nc.close());
      },
    };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw new StorageError(`the store ${options.servers.join(',')} refused: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
