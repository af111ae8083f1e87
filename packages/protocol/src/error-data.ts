/**
 * A ProtocolError across a thread or process boundary (the server's dictionary decoder workers): as plain data,
 * and rebuilt as the same class with the same `code` and fields on the other side (docs/PROTOCOL.md §7).
 */
import { CLASS_BY_CODE, ProtocolError } from './errors';

/**
 * A ProtocolError as plain data. A structured clone (postMessage) keeps only an Error's message, losing its class
 * and `code`; this keeps what the error is.
 */
export interface ProtocolErrorData {
  code: string;
  message: string;
  /** The subclass's own fields (for example `limit`), when they are plain values or lists of them. */
  fields: Record<string, ErrorField>;
}

type Plain = string | number | boolean;
type ErrorField = Plain | Plain[];

const isPlain = (v: unknown): v is Plain => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** What `reviveProtocolError` needs to rebuild `err` on the other side of a postMessage. */
export function protocolErrorData(err: ProtocolError): ProtocolErrorData {
  const fields: Record<string, ErrorField> = {};
  for (const [key, value] of Object.entries(err)) {
    if (key === 'code' || key === 'name') continue;
    if (isPlain(value)) fields[key] = value;
    else if (Array.isArray(value) && value.every(isPlain)) fields[key] = [...value];
  }
  return { code: err.code, message: err.message, fields };
}

/**
 * Rebuilds the error `protocolErrorData` described: an instance of the subclass that has its code (a plain
 * ProtocolError for a code without one), with the same message and fields. The subclass's constructor is not run,
 * since each takes different arguments; the message is the one already built.
 */
export function reviveProtocolError(data: ProtocolErrorData): ProtocolError {
  const cls = CLASS_BY_CODE.get(data.code) ?? ProtocolError;
  const err = Reflect.construct(ProtocolError, [data.code, data.message], cls) as ProtocolError;
  return Object.assign(err, data.fields);
}
