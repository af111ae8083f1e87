/**
 * The XML encoder (docs/PROTOCOL.md §5.4): typed elements, keys in a `key` attribute, no whitespace between
 * elements. The layout is small and fixed, so the document is written directly as text: element names are
 * constants, and every key and text goes through the escapes of §5.4 (`escapeAttribute`, `escapeText`), which
 * leave nothing a parser would read back differently. Characters XML cannot carry at all are written with
 * `escaped="true"` and the backslash escape.
 *
 * The bytes are those xmlbuilder2 wrote when it built and serialized a DOM of the same document (the golden
 * vector and a property test against that encoder, kept in test/dict/oracle/, check it). Writing the text
 * directly is about 25× faster on the bench's dictionary and never loads xmlbuilder2; its streaming writer
 * (`createCB`) was slower than the DOM and cannot write CR as `&#13;` (docs/BENCHMARKS.md, "Serializers").
 */
import { checkByteSize } from './bytes';
import { checkTree, resolveDictLimits, type Dict, type DictLimits } from './model';
import { walkDict } from './walk';
import { ESCAPED_TRUE, backslashEscape, escapeAttribute, escapeText, formatNumber, hasNonXmlChar } from './xml-layout';

/** The XML declaration every encoded document starts with. */
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const encoder = new TextEncoder();

/**
 * Encodes a dictionary as an XML 1.0 document in UTF-8.
 *
 * @throws DictInvalidError, DictTooDeepError, DictTooLargeError (tree or encoded bytes over `maxDictBytes`).
 */
export function encodeXml(value: Dict, limits?: DictLimits): Uint8Array {
  const resolved = resolveDictLimits(limits);
  checkTree(value, resolved, { root: 'dict', safeIntegers: false });
  let out = XML_DECLARATION;
  // A container's start tag is left open (`<array key="a"`) until its first child shows whether it is
  // `<array key="a">…</array>` or empty, `<array key="a"/>`.
  let startTagOpen = false;
  const closeStartTag = (): void => {
    if (startTagOpen) out += '>';
    startTagOpen = false;
  };
  walkDict(value, {
    open(key, kind, depth) {
      closeStartTag();
      out += depth === 1 ? '<dict' : startTag(kind, key, undefined);
      startTagOpen = true;
    },
    scalar(key, v) {
      closeStartTag();
      if (typeof v === 'string') out += `${startTag('string', key, v)}</string>`;
      else if (typeof v === 'number') out += `${startTag('number', key, undefined)}>${formatNumber(v)}</number>`;
      else out += `${startTag(v === null ? 'null' : v ? 'true' : 'false', key, undefined)}/>`;
    },
    close(kind, depth) {
      if (startTagOpen) out += '/>';
      else out += depth === 1 ? '</dict>' : kind === 'object' ? '</object>' : '</array>';
      startTagOpen = false;
    },
  });
  const bytes = encoder.encode(out);
  checkByteSize(bytes, resolved.maxDictBytes);
  return bytes;
}

// Most keys and texts hold nothing to escape and no character XML cannot carry: one test each lets them through.
const SPECIAL_IN_KEY = /[\u0000-\u001F"&<>\uFFFE\uFFFF]/;
const SPECIAL_IN_TEXT = /[\u0000-\u0008\u000B-\u001F&<>\uFFFE\uFFFF]/;

/**
 * `<name`, with the key attribute of a member and `escaped="true"` when the key or the text holds a character
 * XML cannot carry; when `text` is given, also `>` and the escaped text (the caller writes the end tag).
 */
function startTag(name: string, key: string | undefined, text: string | undefined): string {
  const specialKey = key !== undefined && SPECIAL_IN_KEY.test(key);
  const specialText = text !== undefined && SPECIAL_IN_TEXT.test(text);
  const escaped = (specialKey && hasNonXmlChar(key as string)) || (specialText && hasNonXmlChar(text as string));
  let tag = `<${name}`;
  if (key !== undefined) {
    const written = escaped ? escapeAttribute(backslashEscape(key)) : specialKey ? escapeAttribute(key) : key;
    tag += ` key="${written}"`;
  }
  if (escaped) tag += ` escaped="${ESCAPED_TRUE}"`;
  if (text === undefined) return tag;
  return `${tag}>${escaped ? escapeText(backslashEscape(text)) : specialText ? escapeText(text) : text}`;
}
