/**
 * Every setting of `server serve`, once: its flag, its environment variable (PROJ_SERVER_*), its config-file key,
 * its kind, its default and its help text. The CLI flags, the variable names, the config keys (./config.ts) and
 * docs/SERVER.md all follow this table.
 */
import { DEFAULT_SERVER_LIMITS, DEFAULTS } from './options';

export type Kind = 'string' | 'path' | 'port' | 'size' | 'duration' | 'count' | 'bool' | 'output' | 'logLevel';

export interface Setting {
  /** camelCase name: the config file key, and commander's name for the flag. */
  key: string;
  /** The flag, e.g. `--max-file-bytes`. */
  flag: string;
  /** Placeholder shown in help; none for booleans. */
  arg?: string;
  kind: Kind;
  description: string;
  /** Where the value goes in StartOptions: a top-level key or `limits.<key>`. */
  target: string;
  /** Default shown in help and docs. */
  shownDefault?: string;
}

const L = DEFAULT_SERVER_LIMITS;

export const SETTINGS: readonly Setting[] = [
  {
    key: 'host',
    flag: '--host',
    arg: 'address',
    kind: 'string',
    target: 'host',
    shownDefault: DEFAULTS.host,
    description: 'address to listen on (0.0.0.0 for all interfaces)',
  },
  {
    key: 'port',
    flag: '--port',
    arg: 'n',
    kind: 'port',
    target: 'port',
    shownDefault: String(DEFAULTS.port),
    description: 'TCP port; 0 picks a free one',
  },
  {
    key: 'dataDir',
    flag: '--data-dir',
    arg: 'dir',
    kind: 'path',
    target: 'dataDir',
    shownDefault: './data',
    description: 'where received items, receipts and the identity are kept',
  },
  {
    key: 'output',
    flag: '--output',
    arg: 'mode',
    kind: 'output',
    target: 'output',
    shownDefault: DEFAULTS.output,
    description: 'what to print per item: screen (content), file (a notice), both; every item is saved either way',
  },
  {
    key: 'identity',
    flag: '--identity',
    arg: 'file',
    kind: 'path',
    target: 'identityFile',
    shownDefault: '<data-dir>/identity.txt',
    description: 'age identity file; generated (0600) when missing',
  },
  {
    key: 'passphraseFile',
    flag: '--passphrase-file',
    arg: 'file',
    kind: 'path',
    target: 'passphraseFile',
    description: 'file with an age passphrase, to open passphrase-encrypted files',
  },
  {
    key: 'maxScryptWorkFactor',
    flag: '--max-scrypt-work-factor',
    arg: 'n',
    kind: 'count',
    target: 'maxScryptWorkFactor',
    shownDefault: String(DEFAULTS.maxScryptWorkFactor),
    description:
      'highest scrypt work factor (log2 N, 1-22) of a passphrase-encrypted file the server tries to open; above it the file is kept unopened',
  },
  {
    key: 'decrypt',
    flag: '--decrypt',
    kind: 'bool',
    target: 'decrypt',
    shownDefault: 'true',
    description: 'open age files to show (and with --save-plaintext, save) their content; --no-decrypt turns it off',
  },
  {
    key: 'savePlaintext',
    flag: '--save-plaintext',
    kind: 'bool',
    target: 'savePlaintext',
    shownDefault: 'false',
    description: 'also store the plaintext of encrypted files the server can open',
  },
  {
    key: 'tokenFile',
    flag: '--token-file',
    arg: 'file',
    kind: 'path',
    target: 'tokenFile',
    description: 'file with the shared token clients must present',
  },
  {
    key: 'tlsCert',
    flag: '--tls-cert',
    arg: 'file',
    kind: 'path',
    target: 'tlsCert',
    description: 'PEM certificate; with --tls-key, serve TLS',
  },
  {
    key: 'tlsKey',
    flag: '--tls-key',
    arg: 'file',
    kind: 'path',
    target: 'tlsKey',
    description: 'PEM private key for --tls-cert',
  },
  {
    key: 'ask',
    flag: '--ask',
    kind: 'bool',
    target: 'ask',
    shownDefault: 'false',
    description: 'ask the operator to accept or reject each item',
  },
  {
    key: 'approvalTimeout',
    flag: '--approval-timeout',
    arg: 'duration',
    kind: 'duration',
    target: 'limits.approvalTimeoutMs',
    shownDefault: `${L.approvalTimeoutMs / 1000}s`,
    description: 'time to answer an --ask prompt; no answer rejects',
  },
  {
    key: 'maxFrameBytes',
    flag: '--max-frame-bytes',
    arg: 'size',
    kind: 'size',
    target: 'limits.maxFrameBytes',
    shownDefault: '1MiB',
    description: 'largest frame payload',
  },
  {
    key: 'maxDictBytes',
    flag: '--max-dict-bytes',
    arg: 'size',
    kind: 'size',
    target: 'limits.maxDictBytes',
    shownDefault: '1MiB',
    description: 'largest encoded dictionary',
  },
  {
    key: 'dictWorkers',
    flag: '--dict-workers',
    arg: 'n',
    kind: 'count',
    target: 'dictWorkers',
    shownDefault: `${DEFAULTS.dictWorkers} (this machine)`,
    description: 'worker threads that decode large dictionaries off the event loop; 0 = decode on it',
  },
  {
    key: 'maxDictDepth',
    flag: '--max-dict-depth',
    arg: 'n',
    kind: 'count',
    target: 'limits.maxDictDepth',
    shownDefault: String(L.maxDictDepth),
    description: 'deepest dictionary nesting (root = 1)',
  },
  {
    key: 'maxFileBytes',
    flag: '--max-file-bytes',
    arg: 'size',
    kind: 'size',
    target: 'limits.maxFileBytes',
    shownDefault: '4GiB',
    description: 'largest file',
  },
  {
    key: 'maxConnections',
    flag: '--max-connections',
    arg: 'n',
    kind: 'count',
    target: 'limits.maxConnections',
    shownDefault: String(L.maxConnections),
    description: 'clients served at once',
  },
  {
    key: 'maxPending',
    flag: '--max-pending',
    arg: 'n',
    kind: 'count',
    target: 'limits.maxPendingConnections',
    shownDefault: String(L.maxPendingConnections),
    description: 'connections waiting for their hello; past it the oldest waiting one of the busiest address is closed',
  },
  {
    key: 'maxPerAddress',
    flag: '--max-per-address',
    arg: 'n',
    kind: 'count',
    target: 'limits.maxConnectionsPerAddress',
    shownDefault: String(L.maxConnectionsPerAddress),
    description: 'connections from one address (IPv4, or IPv6 /64)',
  },
  {
    key: 'minRate',
    flag: '--min-rate',
    arg: 'size',
    kind: 'size',
    target: 'limits.minRateBytesPerSec',
    shownDefault: '1KiB',
    description: 'slowest accepted rate (per second) while a frame or a put body arrives; 0 = no check',
  },
  {
    key: 'transferTimeout',
    flag: '--transfer-timeout',
    arg: 'duration',
    kind: 'duration',
    target: 'limits.transferTimeoutMs',
    shownDefault: `${L.transferTimeoutMs / 1000}s`,
    description: 'time a transfer may stay under --min-rate before it is cut',
  },
  {
    key: 'maxBuffered',
    flag: '--max-buffered',
    arg: 'size',
    kind: 'size',
    target: 'limits.maxBufferedBytes',
    shownDefault: '64MiB',
    description: 'input all connections together may hold in memory; puts past it wait their turn',
  },
  {
    key: 'handshakeTimeout',
    flag: '--handshake-timeout',
    arg: 'duration',
    kind: 'duration',
    target: 'limits.handshakeTimeoutMs',
    shownDefault: `${L.handshakeTimeoutMs / 1000}s`,
    description: 'time a new connection has to say hello (and finish TLS)',
  },
  {
    key: 'idleTimeout',
    flag: '--idle-timeout',
    arg: 'duration',
    kind: 'duration',
    target: 'limits.idleTimeoutMs',
    shownDefault: `${L.idleTimeoutMs / 1000}s`,
    description: 'silence after which a connection is closed; 0 = never',
  },
  {
    key: 'grace',
    flag: '--grace',
    arg: 'duration',
    kind: 'duration',
    target: 'graceMs',
    shownDefault: `${DEFAULTS.graceMs / 1000}s`,
    description: 'on SIGINT/SIGTERM, time puts under way get to finish',
  },
  {
    key: 'partialTtl',
    flag: '--partial-ttl',
    arg: 'duration',
    kind: 'duration',
    target: 'partialTtlMs',
    shownDefault: `${DEFAULTS.partialTtlMs / 3_600_000}h`,
    description: 'how long the bytes of a cut file put are kept for the client to resume it',
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    arg: 'level',
    kind: 'logLevel',
    target: 'logLevel',
    shownDefault: `${DEFAULTS.logLevel}; warn when stderr is a terminal`,
    description: 'JSON log level on stderr: fatal, error, warn, info, debug, trace, silent',
  },
];

/** `--max-file-bytes` → `PROJ_SERVER_MAX_FILE_BYTES`. */
export function envName(setting: Setting): string {
  return `PROJ_SERVER_${setting.flag.slice(2).replace(/-/g, '_').toUpperCase()}`;
}
