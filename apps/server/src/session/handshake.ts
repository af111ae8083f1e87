/**
 * The handshake (docs/PROTOCOL.md §4): the checks a hello must pass, in order (version, token, shutdown,
 * connection limit), and the welcome that answers it: the server's limits, formats and age recipient, and, to a
 * hello that lists capabilities, the server's own (§4, "Capabilities").
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  AuthError,
  ShuttingDownError,
  SUPPORTED_VERSIONS,
  TooManyConnectionsError,
  VersionError,
} from '@proj/protocol';
import { RESUME_CAPABILITY, type Hello, type Welcome } from '@proj/protocol/wire';
import type { ServerOptions } from '../options';
import type { SessionContext } from './context';

const AGENT = 'proj-server/0.1.0';

/**
 * The capabilities this server supports with `options`, listed in the welcome to a client that negotiates. A
 * feature that depends on an option (notices only with `--ask`) is added here under it. `resume`: always
 * (docs/PROTOCOL.md §4, "Resuming").
 */
export function serverCapabilities(_options: ServerOptions): readonly string[] {
  return [RESUME_CAPABILITY];
}

/** The welcome for `hello` from `sender`; throws the coded error of the first check it fails. */
export function welcomeFor(hello: Hello, ctx: SessionContext, sender: string): Welcome {
  const { options, token } = ctx;
  if (!SUPPORTED_VERSIONS.includes(hello.version)) throw new VersionError(hello.version, SUPPORTED_VERSIONS);
  if (token !== undefined && (hello.token === undefined || !tokensEqual(hello.token, token))) {
    ctx.log.warn({ sender }, 'authentication failed');
    throw new AuthError();
  }
  if (ctx.isShuttingDown()) throw new ShuttingDownError();
  if (ctx.welcomedCount() >= options.limits.maxConnections) {
    throw new TooManyConnectionsError(options.limits.maxConnections);
  }
  const { limits } = options;
  return {
    type: 'welcome',
    version: hello.version,
    agent: AGENT,
    serverId: ctx.serverId,
    limits: {
      maxFrameBytes: limits.maxFrameBytes,
      maxDictBytes: limits.maxDictBytes,
      maxDictDepth: limits.maxDictDepth,
      maxFileBytes: limits.maxFileBytes,
      idleTimeoutMs: limits.idleTimeoutMs,
    },
    formats: ['json', 'xml', 'protobuf'],
    encryption: {
      accepts: ['none', 'age'],
      recipient: ctx.keys.recipient,
      canDecrypt: ctx.keys.canDecrypt,
    },
    // Only to a hello that lists capabilities: a peer from before negotiation refuses an unknown field.
    ...(hello.capabilities.length > 0 ? { capabilities: [...ctx.capabilities] } : {}),
  };
}

/** Compares tokens in constant time: both are hashed first, so their lengths leak nothing either. */
function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
