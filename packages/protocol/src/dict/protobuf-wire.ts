/**
 * Field numbers and wire types of `google.protobuf.Struct` (google/protobuf/struct.proto), shared by the
 * binary encoder and decoder (docs/PROTOCOL.md §5.5).
 */

/** Protobuf wire types used by Struct. */
export const WireType = { VARINT: 0, I64: 1, LEN: 2 } as const;

/** `Struct.fields` (map<string, Value>), whose entries are `{ 1: key, 2: value }`. */
export const STRUCT_FIELDS = 1;
export const ENTRY_KEY = 1;
export const ENTRY_VALUE = 2;

/** The `kind` oneof of `Value`. */
export const ValueField = {
  NULL: 1, // NullValue enum, always 0
  NUMBER: 2, // double
  STRING: 3, // string
  BOOL: 4, // bool
  STRUCT: 5, // Struct
  LIST: 6, // ListValue
} as const;

/** `ListValue.values` (repeated Value). */
export const LIST_VALUES = 1;

/** The tag varint of a field: `field << 3 | wireType`. */
export function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}
