/**
 * Character data as the XML decoder reads it (docs/PROTOCOL.md §5.4): names, the characters XML 1.0 allows,
 * line ends, attribute-value normalisation and references (the five predefined entities and character
 * references; no other entity exists without a DTD, and DTDs are refused before parsing).
 *
 * Each reader first tests its span of the source for anything that needs work. Most keys and texts hold none,
 * and are returned as they are; the others take the full path, which refuses what XML 1.0 refuses.
 */
import { DecodeError } from '../errors';
import { hasNonXmlChar } from './xml-layout';

function fail(message: string): never {
  throw new DecodeError('xml', message);
}

/** `[A-Za-z_:]`, the first character of a name in the layout's subset of XML names. */
export function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
}

/** `[-A-Za-z0-9._:]`, the other characters of a name. */
export function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e;
}

/** XML whitespace: space, TAB, LF, CR. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

// Anything a text or an attribute value needs work for: a control character (TAB and LF only ride along), a
// reference, `]` (of `]]>`) or `<` (refused in attribute values), U+FFFE or U+FFFF.
const TEXT_WORK = /[\u0000-\u001F&\]\uFFFE\uFFFF]/;
const ATTRIBUTE_WORK = /[\u0000-\u001F&<\uFFFE\uFFFF]/;

/**
 * Character data between markup, `src[start, end)`: refused with `]]>` or a character XML forbids; line ends
 * normalised; references resolved.
 */
export function readText(src: string, start: number, end: number): string {
  const raw = src.slice(start, end);
  if (!TEXT_WORK.test(raw)) return raw;
  if (raw.includes(']]>')) fail('"]]>" in character data');
  return decodeReferences(normalizeLines(checkXmlChars(raw)));
}

/** The content of a CDATA section: only the character rules and line ends apply. */
export function readCdata(raw: string): string {
  return normalizeLines(checkXmlChars(raw));
}

/**
 * An attribute value between its quotes, `src[start, end)`: refused with `<` or a character XML forbids;
 * line ends normalised, then TAB and LF read as spaces (attribute-value normalisation, XML 1.0 §3.3.3;
 * characters written as references are kept); references resolved.
 */
export function readAttributeValue(src: string, start: number, end: number, name: string): string {
  const raw = src.slice(start, end);
  if (!ATTRIBUTE_WORK.test(raw)) return raw;
  if (raw.includes('<')) fail(`"<" in the value of attribute ${name}`);
  return decodeReferences(normalizeLines(checkXmlChars(raw)).replace(/[\t\n]/g, ' '));
}

/** Refuses a character XML 1.0 does not allow (raw, not as a reference); returns `raw`. */
export function checkXmlChars(raw: string): string {
  if (hasNonXmlChar(raw)) fail('a character XML 1.0 does not allow');
  return raw;
}

/** XML 1.0 §2.11: CR LF and a lone CR are read as LF. */
function normalizeLines(s: string): string {
  return s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

function decodeReferences(s: string): string {
  if (!s.includes('&')) return s;
  let out = '';
  let from = 0;
  for (let amp = s.indexOf('&'); amp !== -1; amp = s.indexOf('&', from)) {
    const semi = s.indexOf(';', amp);
    if (semi === -1) fail('"&" that does not start a reference');
    out += s.slice(from, amp) + resolveReference(s.slice(amp + 1, semi));
    from = semi + 1;
  }
  return out + s.slice(from);
}

function resolveReference(ref: string): string {
  const predefined = Object.hasOwn(PREDEFINED, ref) ? PREDEFINED[ref] : undefined;
  if (predefined !== undefined) return predefined;
  let code = NaN;
  if (/^#x[0-9A-Fa-f]{1,8}$/.test(ref)) code = parseInt(ref.slice(2), 16);
  else if (/^#[0-9]{1,10}$/.test(ref)) code = parseInt(ref.slice(1), 10);
  else fail(`undefined entity &${ref.slice(0, 20)};`);
  const isChar =
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff);
  if (!isChar) fail(`&${ref}; is not a character XML 1.0 allows`);
  return String.fromCodePoint(code);
}
