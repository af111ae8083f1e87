/**
 * The client envelopes (docs/PROTOCOL.md §3) read without zod: what a server does with every control frame. It
 * takes only what the zod schemas (./envelope-schemas.ts, the source of truth) take, and builds the value they
 * build (defaults filled in, fields in the schemas' order). Anything else is left to the schemas: `undefined`
 * means "not taken here", never "refused", so a refusal is always worded by zod, and a form this check does not
 * know still gets the schemas' answer. test/wire/client-envelope-check.test.ts holds the two to each other on valid
 * envelopes and on each of them broken field by field.
 */
import { MAX_CAPABILITIES, MAX_CAPABILITY_CHARS } from './capabilities';
import type { ClientMessage } from './envelope-schemas';

/** putIdSchema's pattern. */
const PUT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** sha256Schema's pattern. */
const SHA256 = /^[0-9a-f]{64}$/;

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Only the named fields, and each of them own (a strict object). */
function onlyFields(json: Fields, allowed: readonly string[]): boolean {
  for (const key of Object.keys(json)) if (!allowed.includes(key)) return false;
  return true;
}

function isByteCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isString(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}

function isPutId(value: unknown): value is string {
  return typeof value === 'string' && PUT_ID.test(value);
}

/** A hello's protocol version, as helloVersionSchema reads it (other fields not looked at); undefined otherwise. */
export function helloVersion(json: unknown): number | undefined {
  return isFields(json) && json.type === 'hello' && isByteCount(json.version) ? json.version : undefined;
}

const HELLO = ['type', 'version', 'capabilities', 'agent', 'token'];
const PUT_DICT = ['type', 'id', 'format', 'bytes'];
const PUT_FILE = ['type', 'id', 'name', 'size', 'offset', 'encryption'];
const PUT_FILE_RESUME = [...PUT_FILE, 'resume'];
const FILE_END = ['type', 'id', 'bytes', 'sha256'];
const CANCEL = ['type', 'id'];
const PING = ['type', 'nonce'];
const BYE = ['type'];

function hello(json: Fields): ClientMessage | undefined {
  if (!onlyFields(json, HELLO) || !isByteCount(json.version)) return undefined;
  const { capabilities = [], agent, token } = json;
  if (!Array.isArray(capabilities) || capabilities.length > MAX_CAPABILITIES) return undefined;
  if (!capabilities.every((c) => isString(c, 0, MAX_CAPABILITY_CHARS))) return undefined;
  if (agent !== undefined && !isString(agent, 0, 128)) return undefined;
  if (token !== undefined && !isString(token, 1, 4096)) return undefined;
  return {
    type: 'hello',
    version: json.version,
    capabilities: [...(capabilities as string[])],
    ...(agent !== undefined ? { agent } : {}),
    ...(token !== undefined ? { token } : {}),
  };
}

function putDict(json: Fields): ClientMessage | undefined {
  const { id, format, bytes } = json;
  if (!onlyFields(json, PUT_DICT) || !isPutId(id) || !isByteCount(bytes)) return undefined;
  if (format !== 'json' && format !== 'xml' && format !== 'protobuf') return undefined;
  return { type: 'put_dict', id, format, bytes };
}

function putFile(json: Fields, resume: boolean): ClientMessage | undefined {
  if (!onlyFields(json, resume ? PUT_FILE_RESUME : PUT_FILE)) return undefined;
  const { id, name, size, offset = 0, encryption = 'none' } = json;
  if (!isPutId(id) || !isString(name, 1, 1024) || !isByteCount(offset)) return undefined;
  if (size !== undefined && !isByteCount(size)) return undefined;
  if (encryption !== 'none' && encryption !== 'age') return undefined;
  if (json.resume !== undefined && typeof json.resume !== 'boolean') return undefined;
  return {
    type: 'put_file',
    id,
    name,
    ...(size !== undefined ? { size } : {}),
    offset,
    encryption,
    ...(json.resume !== undefined ? { resume: json.resume } : {}),
  };
}

function fileEnd(json: Fields): ClientMessage | undefined {
  const { id, bytes, sha256 } = json;
  if (!onlyFields(json, FILE_END) || !isPutId(id) || !isByteCount(bytes)) return undefined;
  if (typeof sha256 !== 'string' || !SHA256.test(sha256)) return undefined;
  return { type: 'file_end', id, bytes, sha256 };
}

function cancel(json: Fields): ClientMessage | undefined {
  return onlyFields(json, CANCEL) && isPutId(json.id) ? { type: 'cancel', id: json.id } : undefined;
}

function ping(json: Fields): ClientMessage | undefined {
  const { nonce } = json;
  if (!onlyFields(json, PING) || (nonce !== undefined && !isString(nonce, 0, 64))) return undefined;
  return nonce !== undefined ? { type: 'ping', nonce } : { type: 'ping' };
}

/**
 * A client envelope's parsed JSON as the client message schema reads it (the resume form when `resume` was
 * negotiated); undefined when this check does not take it, for the schemas to decide.
 */
export function checkClientMessage(json: unknown, resume: boolean): ClientMessage | undefined {
  if (!isFields(json)) return undefined;
  switch (json.type) {
    case 'hello':
      return hello(json);
    case 'put_dict':
      return putDict(json);
    case 'put_file':
      return putFile(json, resume);
    case 'file_end':
      return fileEnd(json);
    case 'cancel':
      return cancel(json);
    case 'ping':
      return ping(json);
    case 'bye':
      return onlyFields(json, BYE) ? { type: 'bye' } : undefined;
    default:
      return undefined;
  }
}
