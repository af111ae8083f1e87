/**
 * The XML encoder as it was before the hand-written writer (docs/PROTOCOL.md §5.4, §5.8): a DOM built and
 * serialized by xmlbuilder2. Kept here only as the oracle of test/dict/xml-encode-oracle.test.ts, which checks
 * that the writer in src/dict/xml-encode.ts produces the same bytes; delete both when that stops being useful.
 *
 * Two quirks of xmlbuilder2's serializer would change data: it leaves an `&` that looks like the start of a
 * reference unescaped, and writes CR (and TAB/LF in attributes) raw, which parsers normalise. The pre-escapes
 * below handle both.
 */
import { create } from 'xmlbuilder2';
import { checkByteSize } from '../../../src/dict/bytes';
import { checkTree, resolveDictLimits, type Dict, type DictLimits } from '../../../src/dict/model';
import { walkDict } from '../../../src/dict/walk';
import { ESCAPED_TRUE, backslashEscape, formatNumber, hasNonXmlChar } from '../../../src/dict/xml-layout';

const encoder = new TextEncoder();

type XMLBuilder = ReturnType<typeof create>;

const PRE_ESCAPES: Record<string, string> = { '&': '&amp;', '\r': '&#13;', '\t': '&#9;', '\n': '&#10;' };
const preEscapeText = (s: string): string => s.replace(/[&\r]/g, (c) => PRE_ESCAPES[c] as string);
const preEscapeAttribute = (s: string): string => s.replace(/[&\t\n\r]/g, (c) => PRE_ESCAPES[c] as string);
const needsBackslashEscape = (key: string | undefined, text: string | undefined): boolean =>
  (key !== undefined && hasNonXmlChar(key)) || (text !== undefined && hasNonXmlChar(text));

/** The old `encodeXml`, unchanged but for where it finds its helpers. */
export function encodeXmlWithXmlbuilder2(value: Dict, limits?: DictLimits): Uint8Array {
  const resolved = resolveDictLimits(limits);
  checkTree(value, resolved, { root: 'dict', safeIntegers: false });
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
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
