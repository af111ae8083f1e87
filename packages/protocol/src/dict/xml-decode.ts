/**
 * The XML decoder (docs/PROTOCOL.md §5.4).
 *
 * Forbidden markup (DOCTYPE, entity and other declarations, processing instructions) is refused by a scan of
 * the raw text before any parsing, so nothing is ever expanded or fetched. The document is then read by a small
 * strict parser for the subset the layout uses: elements, attributes, character data, the five predefined
 * entities, character references, comments and CDATA (character rules in xml-text.ts; what the layout allows,
 * and the dictionary built, in xml-tree.ts). Runs of elements written exactly as the encoder writes them are
 * matched with one regular expression and handed to the same tree (PLAIN_RUN). It is iterative and stops at
 * `maxDictDepth`, so hostile nesting cannot reach the JS stack. xmlbuilder2's parser is not used: it accepts
 * mismatched end tags and leaves undefined entity references as text, so it could not tell malformed input
 * from ours.
 *
 * The model check (§5.1) is done while reading: depth, finite numbers, and strings that come from valid UTF-8
 * (no lone surrogates). Only the backslash escape can make a lone surrogate (`\uD800`): a document that uses it
 * sends the finished tree through `checkTree`, which refuses it as before. A valid dictionary is walked once.
 */
import { DecodeError, XmlForbiddenError } from '../errors';
import { checkByteSize, decodeUtf8, toDecodeError } from './bytes';
import { checkTree, resolveDictLimits, type Dict, type DictLimits } from './model';
import { XML_ELEMENTS } from './xml-layout';
import { checkXmlChars, isNameChar, isNameStart, isSpace, readAttributeValue, readCdata, readText } from './xml-text';
import { DictXmlTree, El } from './xml-tree';

const FORMAT = 'xml';

/**
 * Decodes an XML document in the dictionary layout.
 *
 * @throws DictTooLargeError (checked first, on the byte count); DecodeError (invalid UTF-8, malformed XML, an
 *   undefined entity, an unknown element or attribute, a wrong layout, a bad number); XmlForbiddenError
 *   (DOCTYPE, `<!ENTITY`, any `<!` declaration, a processing instruction); DictTooDeepError; DictInvalidError.
 */
export function decodeXml(bytes: Uint8Array, limits?: DictLimits): Dict {
  const resolved = resolveDictLimits(limits);
  checkByteSize(bytes, resolved.maxDictBytes);
  let text = decodeUtf8(bytes, FORMAT);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // XML allows a byte order mark
  refuseForbiddenMarkup(text);
  const tree = new DictXmlTree(resolved.maxDictDepth);
  let root: Dict;
  try {
    root = new DictXmlParser(text, tree).parse();
  } catch (err) {
    throw toDecodeError(FORMAT, err);
  }
  // checkTree's size bound cannot exceed the bytes read, which are within the limit: it is counted anyway, so
  // that checkTree would run should that reasoning ever be wrong.
  if (tree.backslashEscaped || tree.bound > resolved.maxDictBytes) {
    checkTree(root, resolved, { root: 'dict', safeIntegers: false });
  }
  return root;
}

/**
 * Refuses every `<!` that is not a comment or CDATA, and every `<?` but a leading XML declaration. Inside a
 * comment or CDATA such text is refused too: a false alarm on input we never produce is the safe side.
 * Both are searched by their second character: `<` is in every element, `!` and `?` are rare, and the runtime
 * finds a single character far faster than a pair (a 44 KiB document: about 1 µs instead of 45).
 */
export function refuseForbiddenMarkup(text: string): void {
  for (let j = text.indexOf('!'); j !== -1; j = text.indexOf('!', j + 1)) {
    const i = j - 1;
    if (text.charCodeAt(i) !== 0x3c) continue;
    if (text.startsWith('<!--', i) || text.startsWith('<![CDATA[', i)) continue;
    const word = (/^[A-Za-z]*/.exec(text.slice(i + 2, i + 12))?.[0] ?? '').toUpperCase();
    if (word === 'DOCTYPE') throw new XmlForbiddenError('DOCTYPE');
    if (word === 'ENTITY') throw new XmlForbiddenError('entity declaration');
    throw new XmlForbiddenError(`declaration <!${word}`);
  }
  for (let j = text.indexOf('?'); j !== -1; j = text.indexOf('?', j + 1)) {
    const i = j - 1;
    if (text.charCodeAt(i) !== 0x3c) continue;
    if (i === 0 && /^<\?xml[ \t\r\n]/.test(text)) continue;
    throw new XmlForbiddenError('processing instruction');
  }
}

const DECLARATION =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.0\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\4)?[ \t\r\n]*\?>/y;

// A key or a text with nothing to normalise or resolve: no quote, `<`, `&` or `]`, no control character (not
// even TAB or LF), no U+FFFE or U+FFFF. Exactly what readAttributeValue and readText return unchanged. Long ones
// are left to the general path, whose searches are faster per character than this pattern's.
const PLAIN_KEY = '(?: key="[^"<&\\x00-\\x1F\\uFFFE\\uFFFF]{0,256}")?';
const PLAIN_TEXT = '[^<&\\]\\x00-\\x1F\\uFFFE\\uFFFF]{0,256}';

/**
 * A run of up to 64 elements as the encoder writes them: no whitespace, at most a `key` attribute in double
 * quotes, plain keys and texts. A string or number whole (start tag, text, end tag); the start tag or
 * empty-element tag of an object, array, true, false or null, or its end tag. Most of a document is read a
 * run at a time; whatever else comes (`<dict>`, `</dict>`, escapes, whitespace, comments, a long text) goes
 * through the general parser. The pattern has no groups: `test` moves `lastIndex` without building a match,
 * and `plainElements` splits the run by position, since every element in it has one of these few forms. The
 * bound on the run keeps the expression engine's backtracking stack small.
 */
const PLAIN_RUN = new RegExp(
  `(?:<(?:string${PLAIN_KEY}>${PLAIN_TEXT}</string>|number${PLAIN_KEY}>${PLAIN_TEXT}</number>` +
    `|(?:object|array|true|false|null)${PLAIN_KEY}/?>|/(?:object|array|true|false|null)>)){1,64}`,
  'y',
);

/** The index in XML_ELEMENTS of the name at `src[i]`, which PLAIN_RUN has already matched. */
function plainElementAt(src: string, i: number): number {
  switch (src.charCodeAt(i)) {
    case 0x6f:
      return El.OBJECT; // o
    case 0x61:
      return El.ARRAY; // a
    case 0x73:
      return El.STRING; // s
    case 0x74:
      return El.TRUE; // t
    case 0x66:
      return El.FALSE; // f
    default:
      return src.charCodeAt(i + 2) === 0x6d ? El.NUMBER : El.NULL; // num, nul
  }
}

const KEY_CACHE_SIZE = 256;
const KEY_CACHE_MAX_LENGTH = 32;
/**
 * The last plain key read for each hash of its length and its first and last characters. The same few keys
 * come back in every record; handing out the same string again saves a copy, and the engine already knows it as
 * a property name. A hit is compared whole, so a collision costs a miss, never a wrong key. Only short keys are
 * kept, each copied character by character: a slice may share the document's memory, which the cache outlives.
 */
const keyCache: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);

/** `src[start, end)`, a key PLAIN_RUN has matched (nothing in it to normalise or resolve). */
function plainKey(src: string, start: number, end: number): string {
  const length = end - start;
  if (length === 0 || length > KEY_CACHE_MAX_LENGTH) return src.slice(start, end);
  const slot = (length * 31 + src.charCodeAt(start) * 7 + src.charCodeAt(end - 1)) & (KEY_CACHE_SIZE - 1);
  const cached = keyCache[slot];
  if (cached !== undefined && cached.length === length) {
    let i = 0;
    while (i < length && cached.charCodeAt(i) === src.charCodeAt(start + i)) i++;
    if (i === length) return cached;
  }
  let key = '';
  for (let i = start; i < end; i++) key += src[i];
  keyCache[slot] = key;
  return key;
}

function fail(message: string): never {
  throw new DecodeError(FORMAT, message);
}

/** Reads the markup of a document and hands each element to the tree. */
class DictXmlParser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly tree: DictXmlTree,
  ) {}

  parse(): Dict {
    this.declaration();
    this.misc();
    if (this.src.charCodeAt(this.pos) !== 0x3c) fail('expected the root element <dict>');
    this.startTag();
    while (this.tree.isOpen) this.content();
    this.misc();
    if (this.pos !== this.src.length) fail('unexpected content after the root element');
    return this.tree.root as Dict;
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
    if (pos >= src.length) fail(`document ends inside <${this.tree.openName}>`);
    if (src.charCodeAt(pos) !== 0x3c) {
      const lt = src.indexOf('<', pos);
      const end = lt === -1 ? src.length : lt;
      this.tree.text(readText(src, pos, end));
      this.pos = end;
    } else if (this.plainElements()) {
      // read at once
    } else if (src.charCodeAt(pos + 1) === 0x2f) {
      this.endTag();
    } else if (src.startsWith('<!--', pos)) {
      this.comment();
    } else if (src.startsWith('<![CDATA[', pos)) {
      const end = src.indexOf(']]>', pos + 9);
      if (end === -1) fail('unterminated CDATA section');
      this.tree.text(readCdata(src.slice(pos + 9, end)));
      this.pos = end + 3;
    } else {
      this.startTag();
    }
  }

  /**
   * A run of elements in PLAIN_RUN's form, each handed to the tree as the general path would hand it. False,
   * having read nothing, when the text here has any other form.
   */
  private plainElements(): boolean {
    const { src, tree } = this;
    PLAIN_RUN.lastIndex = this.pos;
    if (!PLAIN_RUN.test(src)) return false;
    const end = PLAIN_RUN.lastIndex;
    let pos = this.pos;
    while (pos < end) {
      if (src.charCodeAt(pos + 1) === 0x2f) {
        const element = plainElementAt(src, pos + 2);
        if (element !== tree.openElement) fail(`end tag </${XML_ELEMENTS[element]}> does not match <${tree.openName}>`);
        pos += (XML_ELEMENTS[element] as string).length + 3;
        tree.close();
        continue;
      }
      const element = plainElementAt(src, pos + 1);
      const nameLength = (XML_ELEMENTS[element] as string).length;
      let after = pos + 1 + nameLength; // after the name, and then after the key
      let key: string | undefined;
      if (src.charCodeAt(after) === 0x20) {
        const quote = src.indexOf('"', after + 6); // after ` key="`
        key = plainKey(src, after + 6, quote);
        after = quote + 1;
      }
      if (element === El.STRING || element === El.NUMBER) {
        const lt = src.indexOf('<', after + 1);
        pos = lt + nameLength + 3;
        tree.scalarElement(element, key, src.slice(after + 1, lt));
      } else if (src.charCodeAt(after) === 0x2f) {
        pos = after + 2;
        tree.open(element, key, undefined);
        tree.close();
      } else {
        pos = after + 1;
        tree.open(element, key, undefined);
      }
    }
    this.pos = end;
    return true;
  }

  /**
   * A start tag and its attributes. Only `key` and `escaped` exist, so any other name is refused at once; the
   * layout's checks follow in the tree.
   */
  private startTag(): void {
    const src = this.src;
    this.pos++; // '<'
    const element = this.element();
    let key: string | undefined;
    let escapedValue: string | undefined;
    for (;;) {
      const spaced = this.space();
      const c = src.charCodeAt(this.pos);
      if (c === 0x2f && src.charCodeAt(this.pos + 1) === 0x3e) {
        this.pos += 2;
        this.tree.open(element, key, escapedValue);
        this.tree.close();
        return;
      }
      if (c === 0x3e) {
        this.pos++;
        this.tree.open(element, key, escapedValue);
        return;
      }
      if (!spaced) fail(`malformed start tag <${XML_ELEMENTS[element]}>`);
      const attributeStart = this.pos;
      const length = this.name();
      if (length === 3 && src.startsWith('key', attributeStart)) {
        if (key !== undefined) fail('attribute key repeated');
        key = this.attributeValue('key');
      } else if (length === 7 && src.startsWith('escaped', attributeStart)) {
        if (escapedValue !== undefined) fail('attribute escaped repeated');
        escapedValue = this.attributeValue('escaped');
      } else {
        fail(`unknown attribute ${src.slice(attributeStart, this.pos)} on <${XML_ELEMENTS[element]}>`);
      }
    }
  }

  /** `= "value"` after an attribute's name: the value, normalised and with its references resolved. */
  private attributeValue(attribute: string): string {
    const src = this.src;
    this.space();
    if (src.charCodeAt(this.pos) !== 0x3d) fail(`expected = after attribute ${attribute}`);
    this.pos++;
    this.space();
    const quote = src.charCodeAt(this.pos);
    if (quote !== 0x22 && quote !== 0x27) fail(`attribute ${attribute} is not quoted`);
    const start = this.pos + 1;
    const end = src.indexOf(quote === 0x22 ? '"' : "'", start);
    if (end === -1) fail(`unterminated value of attribute ${attribute}`);
    this.pos = end + 1;
    return readAttributeValue(src, start, end, attribute);
  }

  private endTag(): void {
    this.pos += 2; // '</'
    const start = this.pos;
    this.name();
    const name = this.src.slice(start, this.pos);
    this.space();
    if (this.src.charCodeAt(this.pos) !== 0x3e) fail(`malformed end tag </${name}>`);
    this.pos++;
    if (name !== this.tree.openName) fail(`end tag </${name}> does not match <${this.tree.openName}>`);
    this.tree.close();
  }

  private comment(): void {
    const end = this.src.indexOf('-->', this.pos + 4);
    if (end === -1) fail('unterminated comment');
    const body = checkXmlChars(this.src.slice(this.pos + 4, end));
    if (body.includes('--') || body.endsWith('-')) fail('"--" inside a comment');
    this.pos = end + 3;
  }

  /** Moves past the name of an element and returns its index in XML_ELEMENTS; refused when it is not one. */
  private element(): number {
    const start = this.pos;
    this.name();
    const name = this.src.slice(start, this.pos);
    const element = (XML_ELEMENTS as readonly string[]).indexOf(name);
    if (element === -1) fail(`unknown element <${name}>`);
    return element;
  }

  /** Moves past a name (`[A-Za-z_:][-A-Za-z0-9._:]*`) and returns its length. */
  private name(): number {
    const { src } = this;
    const start = this.pos;
    if (!isNameStart(src.charCodeAt(start))) fail(`expected a name at offset ${start}`);
    let i = start + 1;
    while (isNameChar(src.charCodeAt(i))) i++;
    this.pos = i;
    return i - start;
  }

  /** Skips XML whitespace; true when there was some. */
  private space(): boolean {
    const start = this.pos;
    let i = start;
    while (isSpace(this.src.charCodeAt(i))) i++;
    this.pos = i;
    return i > start;
  }
}
