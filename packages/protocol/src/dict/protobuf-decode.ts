/**
 * The binary decoder (docs/PROTOCOL.md §5.5): a serialized `google.protobuf.Struct` into a dictionary.
 *
 * A strict reader of the wire (protobuf-reader.ts) instead of a reflected Struct type: generated decoders do not
 * check wire types, skip unknown fields, accept a Value with no kind, decode invalid UTF-8 to U+FFFD and
 * recurse, so garbage would come back as some dictionary. Here the message stack is explicit and ends at
 * `maxDictDepth`.
 *
 * The model check (§5.1) is done while reading: the depth above, UTF-8 strings (which cannot hold a lone
 * surrogate), objects and arrays built here. What reading alone does not settle, a number that is NaN, infinite
 * or an unsafe integer, sends the finished tree through `checkTree`, which refuses it with the same error and
 * path as on encode. A valid dictionary is walked once.
 */
import { DecodeError, DictTooDeepError } from '../errors';
import { checkByteSize, toDecodeError } from './bytes';
import {
  checkTree,
  resolveDictLimits,
  setOwn,
  type Dict,
  type DictLimits,
  type DictValue,
  type ResolvedDictLimits,
} from './model';
import { ENTRY_KEY, ENTRY_VALUE, LIST_VALUES, STRUCT_FIELDS, ValueField, WireType, tag } from './protobuf-wire';
import { WireReader } from './protobuf-reader';

const FORMAT = 'protobuf';

// The tags the decoder expects, each a field number and a wire type in one varint (§5.5's one-byte tags).
const STRUCT_ENTRY = tag(STRUCT_FIELDS, WireType.LEN);
const LIST_VALUE = tag(LIST_VALUES, WireType.LEN);
const KEY = tag(ENTRY_KEY, WireType.LEN);
const VALUE = tag(ENTRY_VALUE, WireType.LEN);
const NULL_KIND = tag(ValueField.NULL, WireType.VARINT);
const NUMBER_KIND = tag(ValueField.NUMBER, WireType.I64);
const STRING_KIND = tag(ValueField.STRING, WireType.LEN);
const BOOL_KIND = tag(ValueField.BOOL, WireType.VARINT);
const STRUCT_KIND = tag(ValueField.STRUCT, WireType.LEN);
const LIST_KIND = tag(ValueField.LIST, WireType.LEN);

const Kind = { STRUCT: 0, LIST: 1, ENTRY: 2, VALUE: 3 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/**
 * One length-delimited message still being read, ending at byte `end`; one shape for the four kinds. A Struct or
 * ListValue is read field by field from the stack. An entry or a Value is read at once where it starts, unless
 * it holds an object or array: then it waits on the stack under that container, to be finished after it.
 */
class Frame {
  /** ENTRY: its key, if read yet. */
  key: string | undefined = undefined;
  /** ENTRY: its value (the container). */
  value: DictValue = null;

  constructor(
    readonly kind: Kind,
    readonly end: number,
    /** STRUCT: the object being filled; LIST: the array; ENTRY: the object the entry goes into. */
    readonly container: Dict | DictValue[] | undefined,
  ) {}
}

function fail(message: string): never {
  throw new DecodeError(FORMAT, message);
}

function unexpected(t: number, where: string): never {
  fail(`unexpected field ${t >>> 3} (wire type ${t & 7}) in ${where}`);
}

/**
 * Decodes a binary `google.protobuf.Struct`. A map key sent twice: the last value wins and the key keeps its
 * first position, as protobuf map semantics say.
 *
 * @throws DictTooLargeError (checked first, on the byte count); DecodeError (truncated or garbage bytes, a wrong
 *   wire type, a field Struct does not define, a Value with no kind or with two, a NullValue other than 0,
 *   invalid UTF-8); DictTooDeepError; UnsafeIntegerError (an integer beyond ±(2^53 - 1), as on encode);
 *   DictInvalidError (NaN or an infinity).
 */
export function decodeProtobuf(bytes: Uint8Array, limits?: DictLimits): Dict {
  const resolved = resolveDictLimits(limits);
  checkByteSize(bytes, resolved.maxDictBytes);
  let root: Dict;
  let needsModelCheck: boolean;
  try {
    const decoder = new StructDecoder(new WireReader(bytes), resolved);
    root = decoder.read();
    needsModelCheck = decoder.needsModelCheck;
  } catch (err) {
    throw toDecodeError(FORMAT, err);
  }
  if (needsModelCheck) checkTree(root, resolved, { root: 'dict', safeIntegers: true });
  return root;
}

class StructDecoder {
  /** Something reading did not settle (see the module comment): `checkTree` decides. */
  needsModelCheck: boolean;
  private readonly stack: Frame[] = [];
  private depth = 1;
  /**
   * checkTree's lower bound of the encoded size (a byte per node, the UTF-16 length of strings and keys). It
   * cannot exceed the bytes read, which are within the limit; it is counted anyway, so that `checkTree` would
   * run should that reasoning ever be wrong.
   */
  private bound = 0;
  /** The frame of the object or array the last `kind()` started, for its caller to push. */
  private opened: Frame | undefined = undefined;

  constructor(
    private readonly r: WireReader,
    private readonly limits: ResolvedDictLimits,
  ) {
    this.needsModelCheck = limits.maxDictDepth < 1;
  }

  read(): Dict {
    const { r, stack } = this;
    const root: Dict = {};
    stack.push(new Frame(Kind.STRUCT, r.length, root));
    for (let f = stack[0]; f !== undefined; f = stack[stack.length - 1]) {
      if (r.pos >= f.end) {
        if (r.pos > f.end) fail('a field runs past the end of its message');
        stack.pop();
        if (f.kind === Kind.STRUCT || f.kind === Kind.LIST) this.depth--;
        else if (f.kind === Kind.ENTRY) setOwn(f.container as Dict, f.key ?? '', f.value);
        continue;
      }
      const t = r.uint32();
      if (f.kind === Kind.STRUCT) {
        if (t !== STRUCT_ENTRY) unexpected(t, 'Struct');
        this.bound += 1;
        this.entry(f.container as Dict, this.sub(f.end));
      } else if (f.kind === Kind.LIST) {
        if (t !== LIST_VALUE) unexpected(t, 'ListValue');
        this.bound += 1;
        const end = this.sub(f.end);
        // Pushed now rather than when the Value ends: items end in the order they start, so the array is the same.
        (f.container as DictValue[]).push(this.kind(end));
        this.pushOpened(end);
      } else if (f.kind === Kind.ENTRY) {
        // The rest of an entry whose value was an object or array: only its key may still come.
        if (t === KEY) {
          if (f.key !== undefined) fail('a Struct entry with two keys');
          f.key = this.key();
        } else if (t === VALUE) {
          fail('a Struct entry with two values');
        } else {
          unexpected(t, 'a Struct entry');
        }
      } else {
        // A Value whose object or array has ended: any further field is a second kind.
        fail('a Value with more than one kind set');
      }
    }
    if (this.bound > this.limits.maxDictBytes) this.needsModelCheck = true;
    return root;
  }

  /** A Struct entry ending at `end`, from its first field. */
  private entry(obj: Dict, end: number): void {
    const r = this.r;
    let key: string | undefined;
    let value: DictValue = null;
    let hasValue = false;
    while (r.pos < end) {
      const t = r.uint32();
      if (t === KEY) {
        if (key !== undefined) fail('a Struct entry with two keys');
        key = this.key();
      } else if (t === VALUE) {
        if (hasValue) fail('a Struct entry with two values');
        const valueEnd = this.sub(end);
        value = this.kind(valueEnd);
        hasValue = true;
        if (this.opened !== undefined) {
          // An object or array: the entry is finished by `read()`, after it.
          const entry = new Frame(Kind.ENTRY, end, obj);
          entry.key = key;
          entry.value = value;
          this.stack.push(entry);
          this.pushOpened(valueEnd);
          return;
        }
      } else {
        unexpected(t, 'a Struct entry');
      }
    }
    if (r.pos > end) fail('a field runs past the end of its message');
    if (!hasValue) fail('a Struct entry without a value');
    setOwn(obj, key ?? '', value);
  }

  /**
   * The kind of a Value ending at `end`: a scalar, which must end the Value, or a new object or array, whose
   * frame is left in `opened`.
   */
  private kind(end: number): DictValue {
    const r = this.r;
    if (r.pos >= end) fail('a Value with no kind set');
    const t = r.uint32();
    let value: DictValue;
    if (t === STRING_KIND) {
      value = r.string();
      this.bound += value.length;
    } else if (t === NUMBER_KIND) {
      value = r.double();
      // NaN, ±Infinity and every integer beyond ±(2^53 - 1) fail this test (doubles that large are all integers).
      if (!(Math.abs(value) <= Number.MAX_SAFE_INTEGER)) this.needsModelCheck = true;
    } else if (t === BOOL_KIND) {
      value = r.bool();
    } else if (t === NULL_KIND) {
      // uint32() takes only canonical varints, so a 0 read is the one byte 0x00.
      if (r.uint32() !== 0) fail('a NullValue other than NULL_VALUE (0)');
      value = null;
    } else if (t === STRUCT_KIND || t === LIST_KIND) {
      const containerEnd = this.sub(end);
      if (++this.depth > this.limits.maxDictDepth) throw new DictTooDeepError(this.limits.maxDictDepth);
      const container: Dict | DictValue[] = t === STRUCT_KIND ? {} : [];
      this.opened = new Frame(t === STRUCT_KIND ? Kind.STRUCT : Kind.LIST, containerEnd, container);
      return container;
    } else {
      unexpected(t, 'a Value');
    }
    if (r.pos > end) fail('a field runs past the end of its message');
    if (r.pos < end) fail('a Value with more than one kind set');
    return value;
  }

  /** After `kind()` started an object or array: its Value waits under it, then it is read. */
  private pushOpened(valueEnd: number): void {
    const opened = this.opened;
    if (opened === undefined) return;
    this.opened = undefined;
    this.stack.push(new Frame(Kind.VALUE, valueEnd, undefined), opened);
  }

  private key(): string {
    const key = this.r.key();
    this.bound += key.length;
    return key;
  }

  /** The end of a length-delimited field that starts here, checked against the message it sits in. */
  private sub(limit: number): number {
    const length = this.r.uint32();
    const end = this.r.pos + length;
    if (end > limit) fail('a length runs past the end of its message');
    return end;
  }
}
