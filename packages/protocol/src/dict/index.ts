/**
 * `@proj/protocol/dict`: dictionaries (docs/PROTOCOL.md §5): the value model, its limits, and the JSON, XML and
 * binary encodings. Every public name is listed here.
 */
export { DICT_FORMATS, DICT_FILE_EXTENSIONS, parseDictFormat, encodeDict, decodeDict } from './format';
export type { DictFormat } from './format';
export { validateDict } from './model';
export type { Dict, DictValue, DictLimits } from './model';
export { dictValueSchema, dictSchema } from './schema';
export { encodeJson, decodeJson } from './json';
export { encodeXml } from './xml-encode';
export { decodeXml } from './xml-decode';
export { encodeProtobuf } from './protobuf-encode';
export { decodeProtobuf } from './protobuf-decode';
