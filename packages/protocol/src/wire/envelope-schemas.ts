/**
 * The control envelopes' zod schemas (docs/PROTOCOL.md §3), the source of truth for what each envelope may hold:
 * every control frame carries one UTF-8 JSON object with a `type`. Each envelope is a strict zod schema; unknown
 * fields are refused so that a typo never passes silently, with one exception: a client that listed capabilities in
 * its hello ignores fields it does not know in server messages (§4, "Capabilities"). The protocol version and the
 * capabilities are agreed once per connection, in `hello` and `welcome`.
 *
 * Loaded by ./envelopes.ts at the first envelope it cannot take without them (zod is ~4.5 MiB of a server's RSS):
 * a server reads valid client envelopes with ./client-envelope-check.ts, which the tests hold to these schemas.
 */
import { z } from 'zod';
import { CAPABILITY_NAME_PATTERN, MAX_CAPABILITIES, MAX_CAPABILITY_CHARS } from './capabilities';

/** A client-chosen put id: 1-128 characters of `[A-Za-z0-9._:-]`, starting with a letter or digit. */
export const putIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'put id must be 1-128 of [A-Za-z0-9._:-]');

/** Lowercase hex SHA-256. */
export const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits');

const byteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** A protocol version as a hello names it: any *int*. Whether the server speaks it is ERR_VERSION's business. */
const versionSchema = byteCount;

/** A capability name as a server lists it (./capabilities.ts). */
const capabilityNameSchema = z
  .string()
  .max(MAX_CAPABILITY_CHARS)
  .regex(CAPABILITY_NAME_PATTERN, 'capability name must match ^[a-z][a-z0-9-]*(/[1-9][0-9]*)?$');

export const dictFormatSchema = z.enum(['json', 'xml', 'protobuf']);

/** Ways a file can be encrypted when it reaches the server. */
export const encryptionSchema = z.enum(['none', 'age']);

export const limitsSchema = z.strictObject({
  maxFrameBytes: byteCount,
  maxDictBytes: byteCount,
  maxDictDepth: z.number().int().positive(),
  maxFileBytes: byteCount,
  idleTimeoutMs: z.number().int().nonnegative(),
});

// -- client to server -------------------------------------------------------------------------------------------

export const helloSchema = z.strictObject({
  type: z.literal('hello'),
  /** Protocol version the client speaks. Any int parses; one the server does not speak is ERR_VERSION. */
  version: versionSchema,
  /**
   * Capabilities the client asks for (none are defined in version 1). The server ignores names it does not
   * support, and strings that are not capability names: version 1 allowed any string here.
   */
  capabilities: z.array(z.string().max(MAX_CAPABILITY_CHARS)).max(MAX_CAPABILITIES).default([]),
  /** Name and version of the client software, for the server's log. */
  agent: z.string().max(128).optional(),
  /** The shared token, when the server requires one. */
  token: z.string().min(1).max(4096).optional(),
});

export const putDictSchema = z.strictObject({
  type: z.literal('put_dict'),
  id: putIdSchema,
  format: dictFormatSchema,
  /** Exact size of the encoded dictionary, sent next as data frames. */
  bytes: byteCount,
});

export const putFileSchema = z.strictObject({
  type: z.literal('put_file'),
  id: putIdSchema,
  /** The client's name for the file. Only a hint: the server cleans it and picks the stored path itself. */
  name: z.string().min(1).max(1024),
  /** Exact size when known in advance; lets the server refuse an oversize file before any byte moves. */
  size: byteCount.optional(),
  /** Where the client starts sending: 0 only (a resumed put starts where `ready.offset` says, §4 "Resuming"). */
  offset: byteCount.default(0),
  /**
   * What the client says it sends. The server checks the bytes (an age header, §4): `age` over bytes that are not an
   * age file is refused with ERR_ENCRYPTION_MISMATCH; an age file declared `none` is stored as the age file it is.
   */
  encryption: encryptionSchema.default('none'),
});

/**
 * `put_file` on a connection that negotiated `resume` (docs/PROTOCOL.md §4, "Resuming"): `resume: true` asks to
 * continue what the server holds of this id; absent or false starts from zero and drops what it holds. On any other
 * connection the field is unknown, so ERR_BAD_MESSAGE like every unknown field.
 */
export const putFileResumeSchema = putFileSchema.extend({
  resume: z.boolean().optional(),
});

export const fileEndSchema = z.strictObject({
  type: z.literal('file_end'),
  id: putIdSchema,
  /** Bytes sent in this put (from `offset`). */
  bytes: byteCount,
  /** SHA-256 of the whole file. */
  sha256: sha256Schema,
});

export const cancelSchema = z.strictObject({
  type: z.literal('cancel'),
  id: putIdSchema,
});

export const pingSchema = z.strictObject({
  type: z.literal('ping'),
  nonce: z.string().max(64).optional(),
});

export const byeSchema = z.strictObject({
  type: z.literal('bye'),
});

export const clientMessageSchema = z.discriminatedUnion('type', [
  helloSchema,
  putDictSchema,
  putFileSchema,
  fileEndSchema,
  cancelSchema,
  pingSchema,
  byeSchema,
]);

/** The client's messages on a connection that negotiated `resume`. */
export const resumeClientMessageSchema = z.discriminatedUnion('type', [
  helloSchema,
  putDictSchema,
  putFileResumeSchema,
  fileEndSchema,
  cancelSchema,
  pingSchema,
  byeSchema,
]);

// -- server to client -------------------------------------------------------------------------------------------

const welcomeEncryptionSchema = z.strictObject({
  /** Encryption the server takes; unknown names are ignored likewise. */
  accepts: z.array(z.string().max(32)).max(32),
  /** The server's age X25519 recipient (`age1…`), when it has an identity. */
  recipient: z
    .string()
    .regex(/^age1[0-9a-z]+$/)
    .optional(),
  /** Whether the server can open what it receives (it holds an identity or a passphrase). */
  canDecrypt: z.boolean(),
});

export const welcomeSchema = z.strictObject({
  type: z.literal('welcome'),
  /** The hello's version: the server speaks it. */
  version: z.number().int().positive(),
  /** Name and version of the server software. */
  agent: z.string().max(128),
  /** This server process's id; it appears in stored file names. */
  serverId: z.string().max(64),
  limits: limitsSchema,
  /** Dictionary formats the server takes. Names a client does not know are for later versions: ignore them. */
  formats: z.array(z.string().max(32)).max(32),
  encryption: welcomeEncryptionSchema,
  /**
   * Every capability the server supports; sent only to a client whose hello listed at least one, so that a peer
   * that predates negotiation never sees the field. Both peers use the names both lists hold.
   */
  capabilities: z.array(capabilityNameSchema).max(MAX_CAPABILITIES).optional(),
});

/** The server takes a file put: send data from `offset` on. */
export const readySchema = z.strictObject({
  type: z.literal('ready'),
  id: putIdSchema,
  offset: byteCount,
});

/**
 * `ready` on a connection that negotiated `resume`: with an `offset` above 0, `sha256` is the SHA-256 of the first
 * `offset` bytes the server holds, for the client to compare with its own (docs/PROTOCOL.md §4, "Resuming").
 */
export const readyResumeSchema = readySchema.extend({
  sha256: sha256Schema.optional(),
});

/** Proof that an item is durably stored. */
export const receiptSchema = z.strictObject({
  type: z.literal('receipt'),
  id: putIdSchema,
  kind: z.enum(['dict', 'file']),
  /** Where the item is stored, relative to the server's data directory, with `/` separators. */
  path: z.string().min(1).max(4096),
  /** Stored size in bytes (the bytes the client sent). */
  bytes: byteCount,
  sha256: sha256Schema,
  /** Dictionary format, for dictionaries. */
  format: dictFormatSchema.optional(),
  /** Whether the stored bytes are an age file. */
  encrypted: z.boolean(),
  /** When the server first stored it (ISO 8601, UTC). */
  receivedAt: z.string().max(64),
  /** True when this put id was stored before and this receipt is the first one, repeated. */
  duplicate: z.boolean(),
});

export const errorSchema = z
  .strictObject({
    type: z.literal('error'),
    /** Stable code from docs/PROTOCOL.md §7. */
    code: z.string().regex(/^ERR_[A-Z0-9_]+$/),
    message: z.string().max(4096),
    /** The put this error ends, if any. */
    id: putIdSchema.optional(),
    /** True when the server closes the connection after this error. */
    fatal: z.boolean(),
    /** ERR_VERSION only: the protocol versions the server speaks, so that a client can pick one it speaks too. */
    supported: z.array(versionSchema.min(1)).min(1).max(16).optional(),
  })
  .refine((m) => m.supported === undefined || m.code === 'ERR_VERSION', {
    message: 'supported is only sent with ERR_VERSION',
    path: ['supported'],
  });

export const pongSchema = z.strictObject({
  type: z.literal('pong'),
  nonce: z.string().max(64).optional(),
});

/**
 * Something the client should know while a put waits (docs/PROTOCOL.md §4, "Notices"); only on a connection that
 * negotiated `pending-notice`. `PENDING_APPROVAL`: the operator decides about put `id`, and the put is answered
 * within `timeoutMs` from now. A client ignores a notice whose code it does not know.
 */
export const noticeSchema = z.strictObject({
  type: z.literal('notice'),
  id: putIdSchema,
  code: z
    .string()
    .max(64)
    .regex(/^[A-Z][A-Z0-9_]*$/, 'notice code must match ^[A-Z][A-Z0-9_]*$'),
  /** The longest the put waits from now before it is answered (PENDING_APPROVAL: always given). */
  timeoutMs: byteCount.optional(),
});

export const serverMessageSchema = z.discriminatedUnion('type', [
  welcomeSchema,
  readySchema,
  receiptSchema,
  errorSchema,
  pongSchema,
  byeSchema,
  noticeSchema,
]);

/** The server's messages on a connection that negotiated `resume`. */
export const resumeServerMessageSchema = z.discriminatedUnion('type', [
  welcomeSchema,
  readyResumeSchema,
  receiptSchema,
  errorSchema,
  pongSchema,
  byeSchema,
  noticeSchema,
]);

/**
 * The server's messages as a client that listed capabilities reads them: fields it does not know, at any depth,
 * are dropped instead of refused (docs/PROTOCOL.md §4, "Capabilities"). Types stay strict: an unknown message type
 * is still ERR_BAD_MESSAGE.
 */
const tolerantWelcomeSchema = welcomeSchema
  .extend({ limits: limitsSchema.strip(), encryption: welcomeEncryptionSchema.strip() })
  .strip();
export const tolerantServerMessageSchema = z.discriminatedUnion('type', [
  tolerantWelcomeSchema,
  readySchema.strip(),
  receiptSchema.strip(),
  errorSchema.strip(),
  pongSchema.strip(),
  byeSchema.strip(),
  noticeSchema.strip(),
]);
export const tolerantResumeServerMessageSchema = z.discriminatedUnion('type', [
  tolerantWelcomeSchema,
  readyResumeSchema.strip(),
  receiptSchema.strip(),
  errorSchema.strip(),
  pongSchema.strip(),
  byeSchema.strip(),
  noticeSchema.strip(),
]);

export type PutId = z.infer<typeof putIdSchema>;
export type DictFormatName = z.infer<typeof dictFormatSchema>;
export type Encryption = z.infer<typeof encryptionSchema>;
export type WireLimits = z.infer<typeof limitsSchema>;
export type Hello = z.infer<typeof helloSchema>;
export type PutDict = z.infer<typeof putDictSchema>;
/** A put_file; `resume` only ever set on a connection that negotiated it. */
export type PutFile = z.infer<typeof putFileResumeSchema>;
export type FileEnd = z.infer<typeof fileEndSchema>;
export type Cancel = z.infer<typeof cancelSchema>;
export type Ping = z.infer<typeof pingSchema>;
export type Bye = z.infer<typeof byeSchema>;
export type ClientMessage = z.infer<typeof resumeClientMessageSchema>;
export type Welcome = z.infer<typeof welcomeSchema>;
/** A ready; `sha256` only ever set on a connection that negotiated `resume`. */
export type Ready = z.infer<typeof readyResumeSchema>;
export type Receipt = z.infer<typeof receiptSchema>;
export type ErrorMessage = z.infer<typeof errorSchema>;
export type Pong = z.infer<typeof pongSchema>;
export type Notice = z.infer<typeof noticeSchema>;
export type ServerMessage = z.infer<typeof resumeServerMessageSchema>;
/** What a sender writes: fields with defaults may be left out. */
export type ClientMessageInput = z.input<typeof resumeClientMessageSchema>;

/** What a hello says first: the version, which decides how to read the rest. */
export const helloVersionSchema = z.object({ type: z.literal('hello'), version: versionSchema });

/** The client message schemas' type, as ./envelopes.ts picks one of them. */
export type ZodClientSchema = z.ZodType<ClientMessage>;
