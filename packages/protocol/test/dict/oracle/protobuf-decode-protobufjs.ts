/**
 * The binary decoder as it was before it read the wire itself (docs/PROTOCOL.md §5.5): protobufjs's Reader and a
 * model check (`checkTree`) of every decoded tree. Kept only as the oracle of test/dict/decode-oracle.test.ts, which
 * checks that the decoder in src/dict/ accepts the same bytes, returns the same dictionaries and refuses the rest
 * with the same codes; delete both when that stops being useful. The code below is unchanged but for its imports
 * (and it has the strictness of §5.5: a one-byte bool_value of 0 or 1, tags and lengths in canonical varints).
 *
 * Its original comment:
 *
 * The binary decoder (docs/PROTOCOL.md §5.5): a serialized `google.protobuf.Struct` into a dictionary.
 *
 * A strict reader over protobufjs's Reader instead of the reflected Struct type: generated decoders do not check
 * wire types, skip unknown fields, accept a Value with no kind, decode invalid UTF-8 to U+FFFD and recurse,
 * so garbage would come back as some dictionary. Here the message stack is explicit and ends at `maxDictDepth`.
 */
import { Reader } from 'protobufjs';
import { DecodeError, DictTooDeepError } from '../../../src/errors';
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
  ENTRY_KEY,
  ENTRY_VALUE,
  LIST_VALUES,
  STRUCT_FIELDS,
  ValueField,
  WireType,
} from '../../../src/dict/protobuf-wire';

const FORMAT = 'protobuf';

/** One length-delimited message being read, ending at byte `end`. */
type Frame =
  | { type: 'struct'; end: number; obj: Dict }
  | { type: 'list'; end: number; arr: DictValue[] }
  | { type: 'entry'; end: number; parent: Dict; key: string | undefined; value: DictValue | undefined; done: boolean }
  | { type: 'value'; end: number; result: DictValue; hasKind: boolean };

function fail(message: string): never {
  throw new DecodeError(FORMAT, message);
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
export function decodeProtobufWithProtobufjs(bytes: Uint8Array, limits?: DictLimits): Dict {
  const resolved = resolveDictLimits(limits);
  checkByteSize(bytes, resolved.maxDictBytes);
  let root: Dict;
  try {
    root = readStruct(bytes, resolved.maxDictDepth);
  } catch (err) {
    throw toDecodeError(FORMAT, err);
  }
  checkTree(root, resolved, { root: 'dict', safeIntegers: true });
  return root;
}

function readStruct(bytes: Uint8Array, maxDepth: number): Dict {
  const r = Reader.create(bytes);
  const root: Dict = {};
  const stack: Frame[] = [{ type: 'struct', end: bytes.length, obj: root }];
  let depth = 1;
  // A varint in the fewest bytes its value needs; a longer one is not the canonical shape (§5.5).
  const varint = (what: string): number => {
    const start = r.pos;
    const v = r.uint32();
    if (r.pos - start !== varintBytes(v)) fail(`${what} written in more bytes than it needs`);
    return v;
  };
  // A length-delimited field's bytes, its length a canonical varint.
  const lenBytes = (): Uint8Array => {
    const start = r.pos;
    varint('a length');
    r.pos = start;
    return r.bytes();
  };
  // The end of a length-delimited field that starts here, checked against the message it sits in.
  const sub = (frame: Frame): number => {
    const len = varint('a length');
    const end = r.pos + len;
    if (end > frame.end) fail('a length runs past the end of its message');
    return end;
  };
  const enter = (): void => {
    if (++depth > maxDepth) throw new DictTooDeepError(maxDepth);
  };
  while (stack.length > 0) {
    const f = stack[stack.length - 1] as Frame;
    if (r.pos >= f.end) {
      if (r.pos > f.end) fail('a field runs past the end of its message');
      stack.pop();
      finish(f, stack[stack.length - 1]);
      if (f.type === 'struct' || f.type === 'list') depth--;
      continue;
    }
    const t = varint('a tag');
    const field = t >>> 3;
    const wireType = t & 7;
    if (f.type === 'struct' || f.type === 'list') {
      if (field !== (f.type === 'struct' ? STRUCT_FIELDS : LIST_VALUES) || wireType !== WireType.LEN) {
        fail(`unexpected field ${field} (wire type ${wireType}) in ${f.type === 'struct' ? 'Struct' : 'ListValue'}`);
      }
      const end = sub(f);
      if (f.type === 'struct')
        stack.push({ type: 'entry', end, parent: f.obj, key: undefined, value: undefined, done: false });
      else stack.push({ type: 'value', end, result: null, hasKind: false });
    } else if (f.type === 'entry') {
      if (wireType !== WireType.LEN || (field !== ENTRY_KEY && field !== ENTRY_VALUE)) {
        fail(`unexpected field ${field} (wire type ${wireType}) in a Struct entry`);
      }
      if (field === ENTRY_KEY) {
        if (f.key !== undefined) fail('a Struct entry with two keys');
        f.key = decodeUtf8(lenBytes(), FORMAT);
      } else {
        if (f.done) fail('a Struct entry with two values');
        stack.push({ type: 'value', end: sub(f), result: null, hasKind: false });
      }
    } else {
      if (f.hasKind) fail('a Value with more than one kind set');
      f.hasKind = true;
      if (field === ValueField.NULL && wireType === WireType.VARINT) {
        const start = r.pos;
        if (r.uint32() !== 0 || r.pos - start !== 1) fail('a NullValue other than NULL_VALUE (0)');
        f.result = null;
      } else if (field === ValueField.NUMBER && wireType === WireType.I64) {
        f.result = r.double();
      } else if (field === ValueField.STRING && wireType === WireType.LEN) {
        f.result = decodeUtf8(lenBytes(), FORMAT);
      } else if (field === ValueField.BOOL && wireType === WireType.VARINT) {
        const start = r.pos;
        const v = r.uint32();
        if ((v !== 0 && v !== 1) || r.pos - start !== 1) fail('a bool_value other than a one-byte 0 or 1');
        f.result = v === 1;
      } else if (field === ValueField.STRUCT && wireType === WireType.LEN) {
        const end = sub(f);
        enter();
        const obj: Dict = {};
        f.result = obj;
        stack.push({ type: 'struct', end, obj });
      } else if (field === ValueField.LIST && wireType === WireType.LEN) {
        const end = sub(f);
        enter();
        const arr: DictValue[] = [];
        f.result = arr;
        stack.push({ type: 'list', end, arr });
      } else {
        fail(`unexpected field ${field} (wire type ${wireType}) in a Value`);
      }
    }
  }
  return root;
}

/** Bytes of the shortest varint for `v` (< 2^32). */
function varintBytes(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Hands a finished message to the one it sits in. */
function finish(f: Frame, parent: Frame | undefined): void {
  if (f.type === 'entry') {
    if (!f.done) fail('a Struct entry without a value');
    setOwn(f.parent, f.key ?? '', f.value as DictValue);
  } else if (f.type === 'value') {
    if (!f.hasKind) fail('a Value with no kind set');
    if (parent?.type === 'entry') {
      parent.value = f.result;
      parent.done = true;
    } else if (parent?.type === 'list') {
      parent.arr.push(f.result);
    }
  }
}
