/**
 * The binary encoder (docs/PROTOCOL.md §5.5): a dictionary as a serialized `google.protobuf.Struct`.
 *
 * Written with protobufjs's Writer from the walk's events rather than through a reflected type, so that
 * nesting uses the Writer's fork stack instead of recursion, and no intermediate message objects are built.
 * The bytes equal what protobufjs's `google.protobuf.Struct` type encodes (test/dict/protobuf.test.ts checks).
 */
import type { Writer } from 'protobufjs';
import { checkByteSize, toPlainBytes } from './bytes';
import { checkTree, resolveDictLimits, type Dict, type DictLimits } from './model';
import { ENTRY_KEY, ENTRY_VALUE, LIST_VALUES, STRUCT_FIELDS, ValueField, WireType, tag } from './protobuf-wire';
import { walkDict, type DictScalar } from './walk';

let writerClass: typeof Writer | undefined;

/**
 * protobufjs, loaded on the first encode: a server only decodes (with its own reader, ./protobuf-reader.ts), and
 * the library costs it about 8 MiB of memory it would never use.
 */
function protobufWriter(): typeof Writer {
  writerClass ??= (require('protobufjs') as typeof import('protobufjs')).Writer;
  return writerClass;
}

/**
 * Encodes a dictionary as a binary `google.protobuf.Struct`. Map entries are written in the object's key order.
 *
 * @throws UnsafeIntegerError (`ERR_UNSAFE_INTEGER`, with the path) for an integer beyond ±(2^53 - 1), which a
 *   double holds only as one of several integers that round to it; DictInvalidError, DictTooDeepError,
 *   DictTooLargeError (tree or encoded bytes over `maxDictBytes`).
 */
export function encodeProtobuf(value: Dict, limits?: DictLimits): Uint8Array {
  const resolved = resolveDictLimits(limits);
  checkTree(value, resolved, { root: 'dict', safeIntegers: true });
  const w = protobufWriter().create();
  // For each open container: how many length-delimited messages its close has to end.
  const pending: number[] = [];
  // Starts the Value that holds the next member or item; returns how many forks that took.
  const startValue = (key: string | undefined): number => {
    if (key === undefined) {
      w.uint32(tag(LIST_VALUES, WireType.LEN)).fork();
      return 1;
    }
    w.uint32(tag(STRUCT_FIELDS, WireType.LEN)).fork();
    w.uint32(tag(ENTRY_KEY, WireType.LEN)).string(key);
    w.uint32(tag(ENTRY_VALUE, WireType.LEN)).fork();
    return 2;
  };
  const end = (n: number): void => {
    for (let i = 0; i < n; i++) w.ldelim();
  };
  walkDict(value, {
    open(key, kind, depth) {
      if (depth === 1) {
        pending.push(0); // the root Struct is the message itself
        return;
      }
      const forks = startValue(key);
      w.uint32(tag(kind === 'object' ? ValueField.STRUCT : ValueField.LIST, WireType.LEN)).fork();
      pending.push(forks + 1);
    },
    scalar(key, v) {
      const forks = startValue(key);
      writeScalar(w, v);
      end(forks);
    },
    close() {
      end(pending.pop() ?? 0);
    },
  });
  const bytes = toPlainBytes(w.finish());
  checkByteSize(bytes, resolved.maxDictBytes);
  return bytes;
}

function writeScalar(w: Writer, v: DictScalar): void {
  if (v === null) w.uint32(tag(ValueField.NULL, WireType.VARINT)).int32(0);
  else if (typeof v === 'number') w.uint32(tag(ValueField.NUMBER, WireType.I64)).double(v);
  else if (typeof v === 'string') w.uint32(tag(ValueField.STRING, WireType.LEN)).string(v);
  else w.uint32(tag(ValueField.BOOL, WireType.VARINT)).bool(v);
}
