/**
 * What the XML encoder and decoder share (docs/PROTOCOL.md §5.4): element names, the character rules of
 * XML 1.0 and the backslash escape for characters XML 1.0 cannot carry at all.
 */
import { DecodeError } from '../errors';

/** Element names of the layout. `dict` is the root only. */
export const XML_ELEMENTS = ['dict', 'object', 'array', 'string', 'number', 'true', 'false', 'null'] as const;
export type XmlElement = (typeof XML_ELEMENTS)[number];

/** Value of the `escaped` attribute that marks an element whose key and text use the backslash escape. */
export const ESCAPED_TRUE = 'true';

/**
 * Characters XML 1.0 cannot carry, not even as a character reference (production [2] Char): C0 controls
 * other than TAB, LF, CR, and U+FFFE, U+FFFF. Lone surrogates never get here: the value model refuses them.
 */
const NON_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const NON_XML_CHAR_G = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\\]/g;

/** True when `s` holds a character XML 1.0 cannot carry: the encoder escapes it, the decoder refuses it raw. */
export function hasNonXmlChar(s: string): boolean {
  return NON_XML_CHAR.test(s);
}

/** `\` becomes `\\`; a character XML cannot carry becomes `\uXXXX` (4 uppercase hex digits). */
export function backslashEscape(s: string): string {
  return s.replace(NON_XML_CHAR_G, (c) =>
    c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}

/** Reverses `backslashEscape`. Any other use of `\` is ERR_DECODE. */
export function backslashUnescape(s: string): string {
  return s.replace(/\\(\\|u([0-9A-Fa-f]{4}))?/g, (_all, esc: string | undefined, hex: string | undefined) => {
    if (esc === undefined) throw new DecodeError('xml', 'a backslash in an escaped text must start \\\\ or \\uXXXX');
    return hex === undefined ? '\\' : String.fromCharCode(parseInt(hex, 16));
  });
}

/**
 * Text content escaping (§5.4 "Escapes"): `&`, `<`, `>` as the predefined entities, CR as `&#13;` (a raw CR
 * would be read back as LF). TAB and LF are written as themselves.
 */
export function escapeText(s: string): string {
  return TEXT_ESCAPED.test(s) ? s.replace(TEXT_ESCAPED_G, (c) => ESCAPES[c] as string) : s;
}

/**
 * Attribute value escaping, for a value in double quotes: as `escapeText`, plus `"` as `&quot;` and TAB, LF as
 * `&#9;`, `&#10;` (attribute-value normalisation would turn raw ones into spaces).
 */
export function escapeAttribute(s: string): string {
  return ATTRIBUTE_ESCAPED.test(s) ? s.replace(ATTRIBUTE_ESCAPED_G, (c) => ESCAPES[c] as string) : s;
}

// Most texts and keys have nothing to escape: a test first, so that they are returned without a copy.
const TEXT_ESCAPED = /[&<>\r]/;
const ATTRIBUTE_ESCAPED = /[&<>"\t\n\r]/;
const TEXT_ESCAPED_G = /[&<>\r]/g;
const ATTRIBUTE_ESCAPED_G = /[&<>"\t\n\r]/g;
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\r': '&#13;',
  '\t': '&#9;',
  '\n': '&#10;',
};

/**
 * Number syntax: the JSON number grammar (RFC 8259 §6). The encoder writes the shortest round-trip form
 * (ECMAScript Number::toString, `-0` for negative zero), which always matches it; NaN, Infinity, hex,
 * a leading `+`, `.5` or surrounding spaces do not.
 */
export const NUMBER_SYNTAX = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** The text of a number element. */
export function formatNumber(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}
