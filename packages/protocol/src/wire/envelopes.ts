/**
 * Reading control envelopes (docs/PROTOCOL.md §3): a control frame's UTF-8 JSON, checked against the envelopes'
 * zod schemas (./envelope-schemas.ts, which say what each envelope may hold), with the codes of §7.
 *
 * zod is loaded at the first envelope that needs it, not with this module. A client envelope is first read by
 * ./client-envelope-check.ts, which takes only what the schemas take and builds the same value; anything it does not
 * take (a refusal, or a form it does not know) goes to the schemas, which accept it or word the refusal. A server
 * that only ever reads valid envelopes therefore never loads zod (~4.5 MiB of its RSS, docs/BENCHMARKS.md,
 * "Memory"); a client loads it at its first server message.
 */
import { BadMessageError, VersionError } from '../errors';
import { RESUME_CAPABILITY } from './capabilities';
import { checkClientMessage, helloVersion } from './client-envelope-check';
import type * as Schemas from './envelope-schemas';
import { lazySchema } from './lazy-schema';

export type {
  Bye,
  Cancel,
  ClientMessage,
  ClientMessageInput,
  DictFormatName,
  Encryption,
  ErrorMessage,
  FileEnd,
  Hello,
  Notice,
  Ping,
  Pong,
  PutDict,
  PutFile,
  PutId,
  Ready,
  Receipt,
  ServerMessage,
  Welcome,
  WireLimits,
} from './envelope-schemas';
import type { ClientMessage, ServerMessage } from './envelope-schemas';

let loaded: typeof Schemas | undefined;

/** The zod schemas, loaded on the first call. */
function schemas(): typeof Schemas {
  loaded ??= require('./envelope-schemas') as typeof Schemas;
  return loaded;
}

/** A client-chosen put id: 1-128 characters of `[A-Za-z0-9._:-]`, starting with a letter or digit (zod, built at first use). */
export const putIdSchema: typeof Schemas.putIdSchema = lazySchema(() => schemas().putIdSchema);

/**
 * The capabilities a connection negotiated, as the parsers take them: what a capability adds to an envelope is
 * allowed only when it is in the set (docs/PROTOCOL.md §4, "Capabilities", *Using*). Absent: none.
 */
export interface NegotiatedOptions {
  capabilities?: ReadonlySet<string>;
}

// ignoreBOM keeps a byte-order mark in the text, so JSON.parse refuses it: the spec says no BOM.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(payload));
  } catch (cause) {
    throw new BadMessageError(`control frame is not UTF-8 JSON: ${preview(payload)}`, { cause });
  }
}

function parseWith<T>(
  schema: { safeParse(json: unknown): { success: true; data: T } | { success: false; error: ZodErrorLike } },
  json: unknown,
  side: string,
): T {
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new BadMessageError(`invalid ${side} message${where}: ${issue?.message ?? 'schema mismatch'}`, {
      cause: result.error,
    });
  }
  return result.data;
}

/** The fields of a zod error the refusal is worded from. */
interface ZodErrorLike {
  issues: { path: PropertyKey[]; message: string }[];
}

function clientSchemaFor(options: NegotiatedOptions): Schemas.ZodClientSchema {
  const s = schemas();
  return options.capabilities?.has(RESUME_CAPABILITY) ? s.resumeClientMessageSchema : s.clientMessageSchema;
}

/**
 * Parses a control frame payload sent by a client, on a connection that negotiated `options.capabilities` (none by
 * default: a field a capability adds is then unknown). Throws ERR_BAD_MESSAGE.
 */
export function parseClientMessage(payload: Uint8Array, options: NegotiatedOptions = {}): ClientMessage {
  const json = decodeJson(payload);
  const resume = options.capabilities?.has(RESUME_CAPABILITY) === true;
  return checkClientMessage(json, resume) ?? parseWith(clientSchemaFor(options), json, 'client');
}

/**
 * Parses the first control frame of a session, as a server does (docs/PROTOCOL.md §4, "Handshake"): a hello whose
 * `version` is an int missing from `versions` is ERR_VERSION, whatever else it holds, since a later version's hello
 * may carry fields this one does not define. Anything else is parsed as by `parseClientMessage`.
 * Throws ERR_VERSION or ERR_BAD_MESSAGE.
 */
export function parseFirstClientMessage(payload: Uint8Array, versions: readonly number[]): ClientMessage {
  const json = decodeJson(payload);
  const version = helloVersion(json);
  if (version !== undefined && !versions.includes(version)) throw new VersionError(version, versions);
  return checkClientMessage(json, false) ?? parseWith(schemas().clientMessageSchema, json, 'client');
}

export interface ServerMessageOptions extends NegotiatedOptions {
  /**
   * Drop fields this version does not define instead of refusing them: what a client does once its hello listed
   * at least one capability (docs/PROTOCOL.md §4, "Capabilities"). Default false: every object is strict.
   */
  ignoreUnknownFields?: boolean;
}

/** Parses a control frame payload sent by a server. Throws ERR_BAD_MESSAGE. */
export function parseServerMessage(payload: Uint8Array, options: ServerMessageOptions = {}): ServerMessage {
  const json = decodeJson(payload);
  const resume = options.capabilities?.has(RESUME_CAPABILITY) === true;
  const s = schemas();
  if (options.ignoreUnknownFields) {
    const tolerant = resume ? s.tolerantResumeServerMessageSchema : s.tolerantServerMessageSchema;
    return parseWith(tolerant, json, 'server') as ServerMessage;
  }
  return parseWith(resume ? s.resumeServerMessageSchema : s.serverMessageSchema, json, 'server');
}

function preview(payload: Uint8Array): string {
  const head = Buffer.from(payload.subarray(0, 32)).toString('hex');
  return payload.length > 32 ? `${head}… (${payload.length} bytes)` : head || '(empty)';
}
