/**
 * The JSON encoding of dictionaries (docs/PROTOCOL.md §5.3).
 *
 * Compact RFC 8259 JSON, UTF-8, no BOM, keys in own-property order. It differs from `JSON.stringify` in one
 * place: negative zero is written `-0` (JSON.stringify writes `0`), so that the round trip is exact.
 */
import { DictTooDeepError } from '../errors';
import { checkByteSize, decodeUtf8, toDecodeError } from './bytes';
import { checkTree, resolveDictLimits, type Dict, type DictLimits } from './model';
import { walkDict, type DictScalar } from './walk';

const FORMAT = 'json';
const encoder = new TextEncoder();

/**
 * Encodes a dictionary as UTF-8 JSON.
 *
 * @throws DictInvalidError, DictTooDeepError, DictTooLargeError (tree or encoded bytes over `maxDictBytes`).
 */
export function encodeJson(value: Dict, limits?: DictLimits): Uint8Array {
  const resolved = resolveDictLimits(limits);
  checkTree(value, resolved, { root: 'dict', safeIntegers: false });
  const parts: string[] = [];
  // One flag per open container: whether the next member needs a comma before it.
  const needComma: boolean[] = [];
  const prefix = (key: string | undefined): void => {
    if (needComma[needComma.length - 1] === true) parts.push(',');
    if (needComma.length > 0) needComma[needComma.length - 1] = true;
    if (key !== undefined) parts.push(JSON.stringify(key), ':');
  };
  walkDict(value, {
    open(key, kind) {
      prefix(key);
      parts.push(kind === 'object' ? '{' : '[');
      needComma.push(false);
    },
    scalar(key, v) {
      prefix(key);
      parts.push(jsonScalar(v));
    },
    close(kind) {
      needComma.pop();
      parts.push(kind === 'object' ? '}' : ']');
    },
  });
  const bytes = encoder.encode(parts.join(''));
  checkByteSize(bytes, resolved.maxDictBytes);
  return bytes;
}

/**
 * Decodes UTF-8 JSON into a dictionary. A key `__proto__` comes back as an own key (JSON.parse defines
 * properties, it does not assign them). A repeated key: the last value wins, as with JSON.parse.
 *
 * @throws DictTooLargeError (checked first, on the byte count), DecodeError (invalid UTF-8, a BOM, bad JSON),
 *   DictTooDeepError (checked on the text before parsing), DictInvalidError (a non-object root, a number out
 *   of double range, a lone surrogate written as `\ud800`).
 */
export function decodeJson(bytes: Uint8Array, limits?: DictLimits): Dict {
  const resolved = resolveDictLimits(limits);
  checkByteSize(bytes, resolved.maxDictBytes);
  const text = decodeUtf8(bytes, FORMAT);
  checkJsonDepth(text, resolved.maxDictDepth);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw toDecodeError(FORMAT, err);
  }
  checkTree(value, resolved, { root: 'dict', safeIntegers: false });
  return value as Dict;
}

function jsonScalar(v: DictScalar): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return JSON.stringify(v);
}

/**
 * Counts bracket nesting outside strings, so that hostile nesting is refused before JSON.parse builds it.
 * Malformed text is left for JSON.parse to reject.
 */
function checkJsonDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) throw new DictTooDeepError(maxDepth);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
}
