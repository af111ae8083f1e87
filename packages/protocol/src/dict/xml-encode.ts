/**
 * The XML encoder (docs/PROTOCOL.md §5.4): typed elements, keys in a `key` attribute, no whitespace
 * between elements, built and serialized with xmlbuilder2 (well-formedness checked).
 *
 * Two quirks of xmlbuilder2's serializer would change data: it leaves an `&` that looks like the start of a
 * reference unescaped, and writes CR (and TAB/LF in attributes) raw, which parsers normalise. `preEscapeText`
 * and `preEscapeAttribute` handle both; the round-trip property tests strings such as `&#13;` and `&amp;`.
 * Characters XML cannot carry at all are written with `escaped="true"` and the backslash escape.
 */
import type * as Xmlbuilder2 from 'xmlbuilder2';
import { checkByteSize } from './bytes';
import { checkTree, resolveDictLimits, type Dict, type DictLimits } from './model';
import { walkDict } from './walk';
import {
  ESCAPED_TRUE,
  backslashEscape,
  formatNumber,
  needsBackslashEscape,
  preEscapeAttribute,
  preEscapeText,
} from './xml-layout';

/** The XML declaration every encoded document starts with. */
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const encoder = new TextEncoder();

type XMLBuilder = ReturnType<typeof Xmlbuilder2.create>;

let xmlbuilder2: typeof Xmlbuilder2 | undefined;
/**
 * xmlbuilder2, loaded on the first XML encode: it weighs about 13 MiB of memory (with its DOM and YAML modules),
 * and a server, which never encodes XML, should not carry it.
 */
function loadXmlbuilder2(): typeof Xmlbuilder2 {
  xmlbuilder2 ??= require('xmlbuilder2') as typeof Xmlbuilder2;
  return xmlbuilder2;
}

/**
 * Encodes a dictionary as an XML 1.0 document in UTF-8.
 *
 * @throws DictInvalidError, DictTooDeepError, DictTooLargeError (tree or encoded bytes over `maxDictBytes`).
 */
export function encodeXml(value: Dict, limits?: DictLimits): Uint8Array {
  const resolved = resolveDictLimits(limits);
  checkTree(value, resolved, { root: 'dict', safeIntegers: false });
  const doc = loadXmlbuilder2().create({ version: '1.0', encoding: 'UTF-8' });
  // The walk is iterative; the builder's `up()` climbs back, so deep trees never recurse.
  let node: XMLBuilder = doc;
  const element = (name: string, key: string | undefined, text?: string): XMLBuilder => {
    const escaped = needsBackslashEscape(key, text);
    const attributes: Record<string, string> = {};
    if (key !== undefined) attributes.key = preEscapeAttribute(escaped ? backslashEscape(key) : key);
    if (escaped) attributes.escaped = ESCAPED_TRUE;
    const child = node.ele(name, attributes);
    if (text !== undefined) child.txt(preEscapeText(escaped ? backslashEscape(text) : text));
    return child;
  };
  walkDict(value, {
    open(key, kind, depth) {
      node = depth === 1 ? node.ele('dict') : element(kind, key);
    },
    scalar(key, v) {
      if (typeof v === 'string') element('string', key, v);
      else if (typeof v === 'number') element('number', key, formatNumber(v));
      else element(v === null ? 'null' : String(v), key);
    },
    close() {
      node = node.up();
    },
  });
  const bytes = encoder.encode(doc.end({ headless: false, prettyPrint: false, wellFormed: true }));
  checkByteSize(bytes, resolved.maxDictBytes);
  return bytes;
}
