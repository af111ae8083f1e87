/**
 * The XML decoder as it was before it was rewritten for speed (docs/PROTOCOL.md §5.4). Kept only as the oracle of
 * test/dict/decode-oracle.test.ts, which checks that the decoder in src/dict/ accepts the same documents, returns
 * the same dictionaries and refuses the rest with the same codes; delete both when that stops being useful. The
 * code below is unchanged but for its imports and its name.
 *
 * Its original comment:
 *
 * The XML decoder (docs/PROTOCOL.md §5.4).
 *
 * Forbidden markup (DOCTYPE, entity and other declarations, processing instructions) is refused by a scan of
 * the raw text before any parsing, so nothing is ever expanded or fetched. The document is then read by a small
 * strict parser for the subset the layout uses: elements, attributes, character data, the five predefined
 * entities, character references, comments and CDATA. It is iterative and stops at `maxDictDepth`, so hostile
 * nesting cannot reach the JS stack. xmlbuilder2's parser is not used: it accepts mismatched end tags and leaves
 * undefined entity references as text, so it could not tell malformed input from ours.
 */
import { DecodeError, DictTooDeepError, XmlForbiddenError } from '../../../src/errors';
import { checkByteSize, decodeUtf8, toDecodeError } from '../../../src/dict/bytes';
import {
  checkTree,
  resolveDictLimits,
  setOwn,
  type Dict,
  type DictLimits,
  type DictValue,
} from '../../../src/dict/model';
import {
  ESCAPED_TRUE,
  NUMBER_SYNTAX,
  XML_ELEMENTS,
  backslashUnescape,
  hasNonXmlChar,
  type XmlElement,
} from '../../../src/dict/xml-layout';

const FORMAT = 'xml';

/**
 * Decodes an XML document in the dictionary layout.
 *
 * @throws DictTooLargeError (checked first, on the byte count); DecodeError (invalid UTF-8, malformed XML, an
 *   undefined entity, an unknown element or attribute, a wrong layout, a bad number); XmlForbiddenError
 *   (DOCTYPE, `<!ENTITY`, any `<!` declaration, a processing instruction); DictTooDeepError; DictInvalidError.
 */
export function decodeXmlOld(bytes: Uint8Array, limits?: DictLimits): Dict {
  const resolved = resolveDictLimits(limits);
  checkByteSize(bytes, resolved.maxDictBytes);
  let text = decodeUtf8(bytes, FORMAT);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // XML allows a byte order mark
  refuseForbiddenMarkup(text);
  let root: Dict;
  try {
    root = new DictXmlParser(text, resolved.maxDictDepth).parse();
  } catch (err) {
    throw toDecodeError(FORMAT, err);
  }
  checkTree(root, resolved, { root: 'dict', safeIntegers: false });
  return root;
}

/**
 * Refuses every `<!` that is not a comment or CDATA, and every `<?` but a leading XML declaration. Inside a
 * comment or CDATA such text is refused too: a false alarm on input we never produce is the safe side.
 */
export function refuseForbiddenMarkup(text: string): void {
  for (let i = text.indexOf('<!'); i !== -1; i = text.indexOf('<!', i + 2)) {
    if (text.startsWith('<!--', i) || text.startsWith('<![CDATA[', i)) continue;
    const word = (/^[A-Za-z]*/.exec(text.slice(i + 2, i + 12))?.[0] ?? '').toUpperCase();
    if (word === 'DOCTYPE') throw new XmlForbiddenError('DOCTYPE');
    if (word === 'ENTITY') throw new XmlForbiddenError('entity declaration');
    throw new XmlForbiddenError(`declaration <!${word}`);
  }
  for (let i = text.indexOf('<?'); i !== -1; i = text.indexOf('<?', i + 2)) {
    if (i === 0 && /^<\?xml[ \t\r\n]/.test(text)) continue;
    throw new XmlForbiddenError('processing instruction');
  }
}

interface Frame {
  name: XmlElement;
  key: string | undefined;
  escaped: boolean;
  /** The object or array being filled, for dict, object and array. */
  container: Dict | DictValue[] | undefined;
  /** Character data so far, for string and number. */
  text: string;
}

const DECLARATION =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.0\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\4)?[ \t\r\n]*\?>/y;
const NAME = /[A-Za-z_:][-A-Za-z0-9._:]*/y;
const SPACE = /[ \t\r\n]*/y;
const ONLY_SPACE = /^[ \t\r\n]*$/;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };
const ELEMENTS: ReadonlySet<string> = new Set(XML_ELEMENTS);

function fail(message: string): never {
  throw new DecodeError(FORMAT, message);
}

class DictXmlParser {
  private pos = 0;
  private readonly stack: Frame[] = [];
  private depth = 0;
  private root: Dict | undefined;

  constructor(
    private readonly src: string,
    private readonly maxDepth: number,
  ) {}

  parse(): Dict {
    this.declaration();
    this.misc();
    if (this.src.charCodeAt(this.pos) !== 0x3c) fail('expected the root element <dict>');
    this.startTag();
    while (this.stack.length > 0) this.content();
    this.misc();
    if (this.pos !== this.src.length) fail('unexpected content after the root element');
    return this.root as Dict;
  }

  private declaration(): void {
    if (!this.src.startsWith('<?xml')) return;
    DECLARATION.lastIndex = 0;
    const m = DECLARATION.exec(this.src);
    if (m === null) fail('malformed XML declaration (version must be 1.0)');
    const encoding = m[3];
    if (encoding !== undefined && encoding.toLowerCase() !== 'utf-8') fail(`encoding ${encoding} is not UTF-8`);
    this.pos = m[0].length;
  }

  /** Whitespace and comments outside the root element. */
  private misc(): void {
    for (;;) {
      this.space();
      if (!this.src.startsWith('<!--', this.pos)) return;
      this.comment();
    }
  }

  private content(): void {
    const { src, pos } = this;
    if (pos >= src.length) fail(`document ends inside <${this.top().name}>`);
    if (src.charCodeAt(pos) !== 0x3c) {
      const lt = src.indexOf('<', pos);
      const end = lt === -1 ? src.length : lt;
      const raw = src.slice(pos, end);
      if (raw.includes(']]>')) fail('"]]>" in character data');
      this.text(decodeReferences(normalizeLines(checkChars(raw))));
      this.pos = end;
    } else if (src.startsWith('</', pos)) {
      this.endTag();
    } else if (src.startsWith('<!--', pos)) {
      this.comment();
    } else if (src.startsWith('<![CDATA[', pos)) {
      const end = src.indexOf(']]>', pos + 9);
      if (end === -1) fail('unterminated CDATA section');
      this.text(normalizeLines(checkChars(src.slice(pos + 9, end))));
      this.pos = end + 3;
    } else {
      this.startTag();
    }
  }

  private startTag(): void {
    this.pos++; // '<'
    const name = this.name();
    const attributes = new Map<string, string>();
    for (;;) {
      const spaced = this.space();
      if (this.src.startsWith('/>', this.pos)) {
        this.pos += 2;
        this.open(name, attributes);
        this.close(name);
        return;
      }
      if (this.src.charCodeAt(this.pos) === 0x3e) {
        this.pos++;
        this.open(name, attributes);
        return;
      }
      if (!spaced) fail(`malformed start tag <${name}>`);
      const attribute = this.name();
      this.space();
      if (this.src.charCodeAt(this.pos) !== 0x3d) fail(`expected = after attribute ${attribute}`);
      this.pos++;
      this.space();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") fail(`attribute ${attribute} is not quoted`);
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end === -1) fail(`unterminated value of attribute ${attribute}`);
      const raw = this.src.slice(this.pos + 1, end);
      if (raw.includes('<')) fail(`"<" in the value of attribute ${attribute}`);
      if (attributes.has(attribute)) fail(`attribute ${attribute} repeated`);
      // Attribute-value normalisation (XML 1.0 §3.3.3): literal TAB, LF (and CR, after line-end handling)
      // become spaces; characters written as references are kept.
      attributes.set(attribute, decodeReferences(normalizeLines(checkChars(raw)).replace(/[\t\n]/g, ' ')));
      this.pos = end + 1;
    }
  }

  private endTag(): void {
    this.pos += 2; // '</'
    const name = this.name();
    this.space();
    if (this.src.charCodeAt(this.pos) !== 0x3e) fail(`malformed end tag </${name}>`);
    this.pos++;
    this.close(name);
  }

  private comment(): void {
    const end = this.src.indexOf('-->', this.pos + 4);
    if (end === -1) fail('unterminated comment');
    const body = checkChars(this.src.slice(this.pos + 4, end));
    if (body.includes('--') || body.endsWith('-')) fail('"--" inside a comment');
    this.pos = end + 3;
  }

  private open(name: string, attributes: Map<string, string>): void {
    if (!ELEMENTS.has(name)) fail(`unknown element <${name}>`);
    const element = name as XmlElement;
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined ? element !== 'dict' : element === 'dict') fail('<dict> is the root element, and only it');
    if (parent !== undefined && parent.container === undefined) fail(`<${parent.name}> cannot contain elements`);
    for (const attribute of attributes.keys()) {
      if (attribute !== 'key' && attribute !== 'escaped') fail(`unknown attribute ${attribute} on <${element}>`);
    }
    const escapedValue = attributes.get('escaped');
    if (escapedValue !== undefined && escapedValue !== ESCAPED_TRUE) fail(`escaped="${escapedValue}" must be "true"`);
    const escaped = escapedValue !== undefined;
    let key = attributes.get('key');
    const member = parent !== undefined && !Array.isArray(parent.container);
    if (member && key === undefined) fail(`<${element}> inside <${parent.name}> needs a key attribute`);
    if (!member && key !== undefined) fail(`<${element}> cannot have a key attribute here`);
    if (parent === undefined && escaped) fail('<dict> takes no attributes');
    if (key !== undefined && escaped) key = backslashUnescape(key);
    let container: Dict | DictValue[] | undefined;
    if (element === 'dict' || element === 'object') container = {};
    else if (element === 'array') container = [];
    if (container !== undefined && ++this.depth > this.maxDepth) throw new DictTooDeepError(this.maxDepth);
    this.stack.push({ name: element, key, escaped, container, text: '' });
  }

  private close(name: string): void {
    const frame = this.stack.pop();
    if (frame === undefined || frame.name !== name) fail(`end tag </${name}> does not match <${frame?.name}>`);
    let value: DictValue;
    if (frame.container !== undefined) {
      value = frame.container;
      this.depth--;
    } else if (frame.name === 'string') {
      value = frame.escaped ? backslashUnescape(frame.text) : frame.text;
    } else if (frame.name === 'number') {
      if (!NUMBER_SYNTAX.test(frame.text)) fail(`"${frame.text.slice(0, 40)}" is not a number`);
      value = Number(frame.text);
      if (!Number.isFinite(value)) fail(`${frame.text.slice(0, 40)} is out of the range of a double`);
    } else {
      value = frame.name === 'null' ? null : frame.name === 'true';
    }
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined) this.root = value as Dict;
    else if (Array.isArray(parent.container)) parent.container.push(value);
    else setOwn(parent.container as Dict, frame.key as string, value);
  }

  private text(data: string): void {
    const frame = this.top();
    if (frame.name === 'string' || frame.name === 'number') frame.text += data;
    else if (frame.container === undefined || !ONLY_SPACE.test(data)) fail(`text is not allowed in <${frame.name}>`);
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1] as Frame;
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.src);
    if (m === null) fail(`expected a name at offset ${this.pos}`);
    this.pos += m[0].length;
    return m[0];
  }

  /** Skips XML whitespace; true when there was some. */
  private space(): boolean {
    SPACE.lastIndex = this.pos;
    const n = (SPACE.exec(this.src) as RegExpExecArray)[0].length;
    this.pos += n;
    return n > 0;
  }
}

function checkChars(raw: string): string {
  if (hasNonXmlChar(raw)) fail('a character XML 1.0 does not allow');
  return raw;
}

/** XML 1.0 §2.11: CR LF and a lone CR are read as LF. */
function normalizeLines(s: string): string {
  return s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s;
}

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
