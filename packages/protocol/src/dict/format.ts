/**
 * The dictionary formats by name (docs/PROTOCOL.md §5.2): one entry point that dispatches to the three
 * encodings.
 */
import { FormatUnsupportedError } from '../errors';
import { decodeJson, encodeJson } from './json';
import type { Dict, DictLimits } from './model';
import { decodeProtobuf } from './protobuf-decode';
import { encodeProtobuf } from './protobuf-encode';
import { decodeXml } from './xml-decode';
import { encodeXml } from './xml-encode';

/** The three encodings of a dictionary. */
export const DICT_FORMATS = ['json', 'xml', 'protobuf'] as const;

/** A dictionary encoding: `json`, `xml` or `protobuf` (binary `google.protobuf.Struct`). */
export type DictFormat = (typeof DICT_FORMATS)[number];

/** The file name extension, without the dot, for a dictionary stored in each format. */
export const DICT_FILE_EXTENSIONS: Readonly<Record<DictFormat, string>> = Object.freeze({
  json: 'json',
  xml: 'xml',
  protobuf: 'pb',
});

const ALIASES: Readonly<Record<string, DictFormat>> = Object.freeze({ binary: 'protobuf' });

/**
 * Reads a format name as a user or peer wrote it: `json`, `xml`, `protobuf`, or `binary` for `protobuf`.
 * Exact, lower-case names only.
 *
 * @throws FormatUnsupportedError (`ERR_FORMAT_UNSUPPORTED`) for anything else.
 */
export function parseDictFormat(name: string): DictFormat {
  if ((DICT_FORMATS as readonly string[]).includes(name)) return name as DictFormat;
  const alias = Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
  if (alias !== undefined) return alias;
  throw new FormatUnsupportedError(name);
}

const CODECS: Readonly<
  Record<DictFormat, { encode(v: Dict, l?: DictLimits): Uint8Array; decode(b: Uint8Array, l?: DictLimits): Dict }>
> = {
  json: { encode: encodeJson, decode: decodeJson },
  xml: { encode: encodeXml, decode: decodeXml },
  protobuf: { encode: encodeProtobuf, decode: decodeProtobuf },
};

function codecOf(format: DictFormat) {
  const codec = Object.hasOwn(CODECS, format) ? CODECS[format] : undefined;
  if (codec === undefined) throw new FormatUnsupportedError(String(format));
  return codec;
}

/**
 * Encodes a dictionary in `format`. Validates first (model, depth, size); see the per-format encoders for what
 * each refuses.
 *
 * @throws DictInvalidError, DictTooDeepError, DictTooLargeError, UnsafeIntegerError (protobuf only),
 *   FormatUnsupportedError.
 */
export function encodeDict(value: Dict, format: DictFormat, limits?: DictLimits): Uint8Array {
  return codecOf(format).encode(value, limits);
}

/**
 * Decodes bytes in `format` into a validated dictionary. The byte count is checked against `maxDictBytes`
 * before anything else.
 *
 * @throws DictTooLargeError, DecodeError, DictTooDeepError, DictInvalidError, XmlForbiddenError (xml),
 *   UnsafeIntegerError (protobuf), FormatUnsupportedError.
 */
export function decodeDict(bytes: Uint8Array, format: DictFormat, limits?: DictLimits): Dict {
  return codecOf(format).decode(bytes, limits);
}
