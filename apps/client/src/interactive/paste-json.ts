/**
 * JSON typed or pasted at the prompt: a whole dictionary, or one value for an entry or a list item. Both are read
 * by the protocol's own JSON decoder and checked by its dictionary rules (@proj/protocol/dict), so a paste is
 * refused with the same codes and messages as `send-dict --data` (docs/PROTOCOL.md §5).
 */
import { isProtocolError } from '@proj/protocol';
import { decodeJson, validateDict } from '@proj/protocol/dict';
import { describeError } from '../errors';
import type { CheckResult } from './ask';
import { fromDict, fromDictValue, toDict, type DraftDict, type DraftValue } from './draft';

const encoder = new TextEncoder();

/** Reads a whole dictionary (an object at the root). */
export function parseDictJson(text: string): CheckResult<DraftDict> {
  try {
    return { value: fromDict(decodeJson(encoder.encode(text))) };
  } catch (err) {
    return { error: describeError(err) };
  }
}

/**
 * Reads one value and checks it where it will go: `place` returns the whole dictionary with the value in its
 * place, so nesting and size are counted from the root and an error names the value's full path (`$.a.b[2]`).
 */
export function parseValueJson(text: string, place: (value: DraftValue) => DraftDict): CheckResult<DraftValue> {
  const read = readJsonValue(text);
  if ('error' in read) return read;
  const value = fromDictValue(read.value as never);
  try {
    validateDict(toDict(place(value)));
  } catch (err) {
    return { error: describeError(err) };
  }
  return { value };
}

function readJsonValue(text: string): CheckResult<unknown> {
  try {
    return { value: decodeJson(encoder.encode(text)) };
  } catch (err) {
    // The decoder checks size, encoding, nesting and syntax before it asks for an object at the root. A value
    // that got that far and is not an object (a number, a list) is what was asked for: it is read here, and the
    // tree it joins is checked by the caller.
    if (!isProtocolError(err, 'ERR_DICT_INVALID')) return { error: describeError(err) };
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { error: describeError(err) };
    return { value };
  }
}
