/**
 * The `--store nats://h1:4222,h2:4222,h3:4222` address and the `--store-credentials FILE` file of a JetStream
 * store (docs/SERVER.md, "Where items are kept"), read into what the NATS client connects with. Nothing here
 * loads the NATS libraries: a server with the local store never does.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '@proj/cli-kit';

/** Where a store setting points: the data directory (the default), or a NATS cluster. */
export function isNatsStore(store: string | undefined): store is string {
  return store !== undefined && /^(nats|tls):\/\//i.test(store.trim());
}

/**
 * The servers of `nats://h1:4222,h2:4222` (or `tls://…`): each `host:port` as a URL of the same scheme. The
 * client connects to any of them and learns the rest of the cluster from it.
 */
export function parseNatsServers(store: string): string[] {
  const m = /^(nats|tls):\/\/(.+)$/i.exec(store.trim());
  if (!m) throw new UsageError(`store: expected nats://host:port[,host:port...], got ${JSON.stringify(store)}`);
  const scheme = (m[1] as string).toLowerCase();
  const servers = (m[2] as string).split(',').map((s) => s.trim().replace(/^(nats|tls):\/\//i, ''));
  for (const s of servers) {
    // No user:password@ in the address: credentials come from a file, never argv.
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/.test(s)) {
      throw new UsageError(
        `store: expected host:port in ${JSON.stringify(store)}, got ${JSON.stringify(s)} (credentials go in --store-credentials)`,
      );
    }
  }
  return servers.map((s) => `${scheme}://${s}`);
}

/** What a credentials file holds (docs/SERVER.md lists the forms). */
export type NatsCredentials =
  | { kind: 'creds'; text: string }
  | { kind: 'user'; user: string; password: string }
  | { kind: 'token'; token: string };

/**
 * Reads `--store-credentials`: a NATS `.creds` file (a user JWT and its nkey seed, as `nsc` writes it), or lines
 * `user=NAME` and `password=SECRET`, or a line `token=SECRET`. Blank lines and `#` comments are skipped.
 */
export async function readNatsCredentials(file: string): Promise<NatsCredentials> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the store credentials ${file}: ${(err as Error).message}`);
  }
  return parseNatsCredentials(text, file);
}

export function parseNatsCredentials(text: string, file: string): NatsCredentials {
  if (text.includes('-----BEGIN NATS USER JWT-----')) return { kind: 'creds', text };
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^(user|password|token)\s*[=:]\s*(.*)$/.exec(t);
    if (!m) throw new UsageError(`store credentials ${file}: expected user=, password= or token= lines`);
    values.set(m[1] as string, m[2] as string);
  }
  const user = values.get('user');
  const password = values.get('password');
  const token = values.get('token');
  if (token !== undefined && user === undefined && password === undefined && token !== '') {
    return { kind: 'token', token };
  }
  if (user !== undefined && password !== undefined && token === undefined && user !== '') {
    return { kind: 'user', user, password };
  }
  throw new UsageError(`store credentials ${file}: expected user= and password=, or token= alone`);
}
