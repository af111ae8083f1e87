/**
 * The listening server: accepts TCP (or TLS) connections, runs one Session per connection, and shuts down
 * gracefully: stop accepting, let puts under way finish within the grace period, then close what is left.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import * as net from 'node:net';
import { resolve } from 'node:path';
import * as tls from 'node:tls';
import { readSecretFile } from '@proj/crypto';
import { encodeControlFrame } from '@proj/protocol/wire';
import { Admission, type Admitted } from './admission';
import { ApprovalQueue } from './approval';
import { DictDecoderPool, workerHeapMiBFor } from './dict-check/dict-decoder-pool';
import { InputBudget } from './input-budget';
import { loadKeys } from './keys';
import { createLogger } from './logger';
import { resolveOptions, UsageError, type ServerOptions, type StartOptions } from './options';
import { Output } from './output/output';
import { terminalApprover } from './prompts';
import type { SessionContext } from './session/context';
import { serverCapabilities } from './session/handshake';
import { Session } from './session/session';
import { newServerId } from './store/paths';
import { Store } from './store/store';

/** A started server. */
export interface RunningServer {
  /** Address it listens on, as bound (e.g. `127.0.0.1`). */
  host: string;
  /** Port it listens on (the real one when 0 was asked). */
  port: number;
  /** Absolute data directory. */
  dataDir: string;
  /** This process's server id (in stored file names and the welcome). */
  serverId: string;
  /** The server's age recipient (`age1…`). */
  recipient?: string;
  /** Whether it serves TLS. */
  tls: boolean;
  /** Stops accepting, lets puts under way finish for up to `graceMs` (default: the option), closes the rest. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts a server: prepares the data directory (cleaning what dead processes left), loads or generates the
 * identity, and listens. Resolves once it accepts connections.
 */
export async function startServer(input: StartOptions): Promise<RunningServer> {
  const options: ServerOptions = resolveOptions(input);
  const dataDir = resolve(options.dataDir);
  const log = options.logger ?? createLogger(options.logLevel, options.logDestination);
  const output = new Output(options.stdout, options.output);
  const serverId = newServerId();

  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new UsageError('TLS needs both a certificate (--tls-cert) and a key (--tls-key)');
  }
  checkLimits(options);
  const store = await Store.open(dataDir, serverId, log, {}, options.partialTtlMs);
  const keys = await loadKeys(
    {
      dataDir,
      identityFile: options.identityFile,
      passphraseFile: options.passphraseFile,
      maxScryptWorkFactor: options.maxScryptWorkFactor,
      decrypt: options.decrypt,
    },
    log,
  );
  if (keys.created) output.line(`generated an age identity in ${keys.identityFile}`);
  const token = options.token ?? (options.tokenFile ? await readSecretFile(options.tokenFile) : undefined);
  const approval = options.ask
    ? new ApprovalQueue(options.approver ?? terminalApprover(), options.limits.approvalTimeoutMs)
    : undefined;

  const sessions = new Set<Session>();
  let shuttingDown = false;
  const { limits } = options;
  const budget = new InputBudget(limits.maxBufferedBytes);
  // Each session has at most one dictionary in hand, so the queue never holds more than the sessions admitted.
  const dictDecoder = new DictDecoderPool({
    size: options.dictWorkers,
    maxQueued: limits.maxConnections + limits.maxPendingConnections,
    workerHeapMiB: workerHeapMiBFor(limits.maxDictBytes),
  });
  const admission = new Admission<Admitted>({
    maxPending: limits.maxPendingConnections,
    maxPerAddress: limits.maxConnectionsPerAddress,
  });
  const ctx: SessionContext = {
    options,
    serverId,
    capabilities: serverCapabilities(options),
    store,
    keys,
    ...(token !== undefined ? { token } : {}),
    log,
    output,
    ...(approval ? { approval } : {}),
    budget,
    dictDecoder,
    onWelcomed: (session) => admission.welcomed(session),
    welcomedCount: () => {
      let n = 0;
      for (const s of sessions) if (s.welcomed) n++;
      return n;
    },
    isShuttingDown: () => shuttingDown,
  };

  const onSocket = (socket: net.Socket): void => {
    const address = socket.remoteAddress ?? 'unknown';
    if (!admission.allows(address)) {
      log.info({ sender: `${address}:${socket.remotePort}` }, 'too many connections from one address: refused');
      socket.on('error', () => undefined);
      // Gone as soon as the refusal is written: a refused socket must not count against the raw cap below.
      socket.end(refusalFrame(limits.maxConnectionsPerAddress), () => socket.destroy());
      return;
    }
    const session = new Session(socket, ctx);
    sessions.add(session);
    admission.admit(session);
    void session.done.then(() => {
      sessions.delete(session);
      admission.release(session);
    });
  };

  const useTls = options.tlsCert !== undefined && options.tlsKey !== undefined;
  let server: net.Server;
  if (useTls) {
    const [cert, key] = await Promise.all([readFile(options.tlsCert as string), readFile(options.tlsKey as string)]);
    const tlsServer = tls.createServer({
      cert,
      key,
      handshakeTimeout: options.limits.handshakeTimeoutMs,
      allowHalfOpen: true,
    });
    tlsServer.on('secureConnection', onSocket);
    tlsServer.on('tlsClientError', (err, socket) => {
      log.info({ err: err.message, sender: `${socket.remoteAddress}:${socket.remotePort}` }, 'TLS handshake failed');
      // With a listener here, node leaves the socket open on a handshake timeout: without this, connections
      // that never start TLS would stay forever and fill the raw socket cap (docs/RELIABILITY.md, faults found).
      socket.destroy();
    });
    server = tlsServer;
  } else {
    // Half-open: a client that shuts down its sending side still gets every answer (docs/PROTOCOL.md §4).
    server = net.createServer({ allowHalfOpen: true }, onSocket);
  }
  // Admission keeps sessions within maxConnections + maxPendingConnections (evicting the oldest waiting ones);
  // this hard cap on raw sockets only backs it up, with room for sockets being closed.
  server.maxConnections = 2 * (limits.maxConnections + limits.maxPendingConnections) + 16;
  server.on('error', (err) => log.error({ err }, 'server error'));

  // A flood fills node's default backlog (511): the kernel then drops others' SYNs, which retry after 1 s, 3 s, ...
  server.listen({ host: options.host, port: options.port, backlog: 4096 });
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw err;
    }),
  ]);
  const address = server.address() as net.AddressInfo;
  const shown =
    address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  output.line(`listening on ${shown}${useTls ? ' (TLS)' : ''}; data in ${dataDir}; recipient ${keys.recipient}`);
  log.info(
    { host: address.address, port: address.port, dataDir, serverId, tls: useTls, output: options.output },
    'listening',
  );

  let closing: Promise<void> | undefined;
  const close = (graceMs = options.graceMs): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true;
      const closed = new Promise<void>((done) => server.close(() => done()));
      for (const s of sessions) s.shutdown();
      const all = (): Promise<unknown[]> => Promise.all([...sessions].map((s) => s.done));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        all().then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        log.warn({ sessions: sessions.size }, 'grace period over: closing connections with puts under way');
        for (const s of sessions) s.destroy();
        await all();
      }
      await closed;
      await dictDecoder.close();
      await store.close();
      output.line('stopped');
      log.info('stopped');
    })();
    return closing;
  };

  return {
    host: address.address,
    port: address.port,
    dataDir,
    serverId,
    recipient: keys.recipient,
    tls: useTls,
    close,
  };
}

/** Limits that cannot work together are a usage error at start, not a put that waits forever. */
function checkLimits(options: ServerOptions): void {
  const { maxBufferedBytes, maxDictBytes } = options.limits;
  if (maxBufferedBytes < maxDictBytes) {
    throw new UsageError(
      `--max-buffered (${maxBufferedBytes} bytes) must be at least --max-dict-bytes (${maxDictBytes} bytes)`,
    );
  }
  if (maxBufferedBytes < 1024 * 1024) throw new UsageError('--max-buffered must be at least 1MiB');
}

/** The fatal error a connection over the per-address limit gets before it is closed. */
function refusalFrame(limit: number): Buffer {
  const message = `too many connections from this address (limit ${limit})`;
  return encodeControlFrame({ type: 'error', code: 'ERR_TOO_MANY_CONNECTIONS', message, fatal: true });
}
