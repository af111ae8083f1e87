/**
 * `health`: the server's own health check (docs/SERVER.md §12), for a container's HEALTHCHECK, a systemd watchdog
 * script or a monitor: it connects to the server as a client would (the address, token and TLS settings come from
 * the same flags, variables and config file as `serve`), completes the handshake, pings, and says goodbye. Exit 0
 * and one line when all of it works within the timeout; otherwise the coded error and exit 1.
 */
import { readFile } from 'node:fs/promises';
import { readSecretFile } from '@proj/crypto';
import { connect, DEFAULT_PORT } from '@proj/protocol';
import { UsageError } from '@proj/cli-kit';
import { EXIT_OK, type CliIo } from './cli-io';
import { gatherOptions } from './config';
import { DEFAULTS } from './options';

/** A listening address that names every interface is reached through the loopback one. */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

export async function healthCommand(flags: Record<string, unknown>, io: CliIo): Promise<number> {
  const { options } = await gatherOptions({
    flags: { host: flags.host, port: flags.port, tokenFile: flags.tokenFile, tlsCert: flags.tlsCert },
    env: io.env,
    cwd: io.cwd,
    defaultDataDir: io.defaultDataDir,
    ...(typeof flags.config === 'string' ? { configFile: flags.config } : {}),
  });
  const seconds = flags.timeout === undefined ? 5 : Number(flags.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new UsageError(`--timeout: expected seconds from 1 to 3600, got ${JSON.stringify(flags.timeout)}`);
  }
  const host = reachable(options.host ?? DEFAULTS.host);
  const port = options.port ?? DEFAULT_PORT;
  const token = options.tokenFile ? await readSecretFile(options.tokenFile) : undefined;
  // Our own certificate is the one trusted, whatever name it holds: the check is of this server, by address.
  const tls = options.tlsCert
    ? { ca: await readFile(options.tlsCert), checkServerIdentity: () => undefined }
    : undefined;
  const started = performance.now();
  const client = await connect({
    host,
    port,
    timeoutMs: seconds * 1000,
    agent: 'proj-server health',
    keepAlive: false,
    ...(token !== undefined ? { token } : {}),
    ...(tls ? { tls } : {}),
  });
  try {
    await client.ping();
  } finally {
    await client.close();
  }
  const ms = Math.round(performance.now() - started);
  const { agent, serverId } = client.welcome;
  io.stdout.write(`ok: ${agent} (server ${serverId}) at ${host}:${port}${tls ? ' (TLS)' : ''}, ${ms} ms\n`);
  return EXIT_OK;
}
