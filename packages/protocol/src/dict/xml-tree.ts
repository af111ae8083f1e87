/**
 * The dictionary an XML document describes (docs/PROTOCOL.md §5.4), built from the elements the parser reads:
 * which element may stand where (`dict` at the root only, a `key` on members and not on items, nothing inside
 * string, number, true, false, null), the backslash escape, numbers, and the depth limit. The parser
 * (xml-decode.ts) reads the markup; everything the layout says about it is decided here.
 */
import { DecodeError, DictTooDeepError } from '../errors';
import { setOwn, type Dict, type DictValue } from './model';
import { ESCAPED_TRUE, NUMBER_SYNTAX, XML_ELEMENTS, backslashUnescape } from './xml-layout';

/** The elements by their index in XML_ELEMENTS. */
export const El = { DICT: 0, OBJECT: 1, ARRAY: 2, STRING: 3, NUMBER: 4, TRUE: 5, FALSE: 6, NULL: 7 } as const;

const ONLY_SPACE = /^[ \t\r\n]*$/;

function fail(message: string): never {
  throw new DecodeError('xml', message);
}

/** An open element: a container, or the one string, number, true, false or null being read (only ever on top). */
class Open {
  /** Character data so far, for string and number. */
  text = '';

  constructor(
    /** Its index in XML_ELEMENTS. */
    readonly element: number,
    readonly key: string | undefined,
    readonly escaped: boolean,
    /** The object or array being filled, for dict, object and array. */
    readonly container: Dict | DictValue[] | undefined,
  ) {}
}

export class DictXmlTree {
  /** The root, once `<dict>` has closed. */
  root: Dict | undefined;
  /** An element used `escaped="true"`: the backslash escape can make a lone surrogate, which checkTree refuses. */
  backslashEscaped = false;
  /** checkTree's lower bound of the encoded size: a byte per element below the root, the length of keys and strings. */
  bound = 0;
  private readonly stack: Open[] = [];
  private depth = 0;

  constructor(private readonly maxDepth: number) {}

  /** Whether an element is open (the document is not finished). */
  get isOpen(): boolean {
    return this.stack.length > 0;
  }

  /** The index in XML_ELEMENTS of the innermost open element. */
  get openElement(): number {
    return this.top().element;
  }

  /** The name of the innermost open element. */
  get openName(): string {
    return XML_ELEMENTS[this.top().element] as string;
  }

  /** A start tag (or the start of an empty-element tag) has been read whole. */
  open(element: number, key: string | undefined, escapedValue: string | undefined): void {
    const parent = this.stack[this.stack.length - 1];
    const escaped = escapedValue !== undefined;
    key = this.admit(element, key, escapedValue, parent);
    let container: Dict | DictValue[] | undefined;
    if (element === El.DICT || element === El.OBJECT) container = {};
    else if (element === El.ARRAY) container = [];
    if (container !== undefined && ++this.depth > this.maxDepth) throw new DictTooDeepError(this.maxDepth);
    this.stack.push(new Open(element, key, escaped, container));
  }

  /** The end tag of the innermost open element (its name already matched), or the end of an empty-element tag. */
  close(): void {
    const open = this.stack.pop() as Open;
    let value: DictValue;
    if (open.container !== undefined) {
      value = open.container;
      this.depth--;
    } else {
      value = this.scalar(open.element, open.text, open.escaped);
    }
    this.attach(open.key, value);
  }

  /** `<string key="k">text</string>` or `<number …>` read at once, without escapes: as open, text, close. */
  scalarElement(element: number, key: string | undefined, text: string): void {
    const parent = this.top();
    this.attach(this.admit(element, key, undefined, parent), this.scalar(element, text, false));
  }

  /** Character data inside the innermost open element. */
  text(data: string): void {
    const open = this.top();
    if (open.element === El.STRING || open.element === El.NUMBER) open.text += data;
    else if (open.container === undefined || !ONLY_SPACE.test(data)) fail(`text is not allowed in <${this.openName}>`);
  }

  /** The layout's rules for an element opening inside `parent`; returns its key, unescaped. */
  private admit(
    element: number,
    key: string | undefined,
    escapedValue: string | undefined,
    parent: Open | undefined,
  ): string | undefined {
    const name = XML_ELEMENTS[element] as string;
    if (parent === undefined ? element !== El.DICT : element === El.DICT)
      fail('<dict> is the root element, and only it');
    if (parent !== undefined && parent.container === undefined)
      fail(`<${XML_ELEMENTS[parent.element]}> cannot contain elements`);
    if (escapedValue !== undefined && escapedValue !== ESCAPED_TRUE) fail(`escaped="${escapedValue}" must be "true"`);
    const escaped = escapedValue !== undefined;
    const member = parent !== undefined && !Array.isArray(parent.container);
    if (member && key === undefined) fail(`<${name}> inside <${XML_ELEMENTS[parent.element]}> needs a key attribute`);
    if (!member && key !== undefined) fail(`<${name}> cannot have a key attribute here`);
    if (parent === undefined && escaped) fail('<dict> takes no attributes');
    if (escaped) this.backslashEscaped = true;
    if (key !== undefined) {
      if (escaped) key = backslashUnescape(key);
      this.bound += key.length;
    }
    if (parent !== undefined) this.bound += 1;
    return key;
  }

  /** The value of a string, number, true, false or null element with this text. */
  private scalar(element: number, text: string, escaped: boolean): DictValue {
    if (element === El.STRING) {
      const value = escaped ? backslashUnescape(text) : text;
      this.bound += value.length;
      return value;
    }
    if (element === El.NUMBER) {
      if (!NUMBER_SYNTAX.test(text)) fail(`"${text.slice(0, 40)}" is not a number`);
      const value = Number(text);
      if (!Number.isFinite(value)) fail(`${text.slice(0, 40)} is out of the range of a double`);
      return value;
    }
    return element === El.NULL ? null : element === El.TRUE;
  }

  /** Hands a finished value to the innermost open element, or makes it the root. */
  private attach(key: string | undefined, value: DictValue): void {
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined) this.root = value as Dict;
    else if (Array.isArray(parent.container)) parent.container.push(value);
    else setOwn(parent.container as Dict, key as string, value);
  }

  private top(): Open {
    return this.stack[this.stack.length - 1] as Open;
  }
}
