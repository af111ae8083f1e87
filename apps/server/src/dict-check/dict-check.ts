/**
 * What the server does with a dictionary body before it stores it: decode and validate it, and render the text
 * it shows of it (the operator's preview, the head the screen shows). The same function runs on the main thread
 * for small bodies and in a worker for large ones (./dict-decoder-pool.ts), so both give the same answer and the
 * same error.
 *
 * Only text leaves this module, never the value tree: a dense 1 MiB dictionary is hundreds of thousands of
 * objects, and rebuilding them on the main thread from a worker's structured clone costs 40-45% of decoding them
 * there. The texts are bounded (../output/json-head.ts stops writing once it has enough), so they cost little to pass.
 */
import { decodeDict, type DictFormat, type DictLimits } from '@proj/protocol/dict';
import { jsonHead, type JsonHead } from '../output/json-head';

/** Characters of compact JSON shown to the operator when asked to approve a dictionary. */
export const PREVIEW_CHARS = 200;

/** Which texts the caller will use. */
export interface DictViewsWanted {
  /** The first PREVIEW_CHARS characters of compact JSON, for the operator's approval prompt. */
  preview: boolean;
  /** The head of the indented JSON for the screen, at most this many characters; 0 for none. */
  screenChars: number;
}

/** The texts asked for; a field not asked for is absent. */
export interface DictViews {
  preview?: string;
  screen?: JsonHead;
}

/**
 * Decodes and validates a dictionary body and renders the texts asked for.
 *
 * `decodeDict` already validates what it built with the same limits (packages/protocol/src/dict/model.ts: every
 * decoder ends with `checkTree`, the binary one with the stricter safe-integer rule), so a `validateDict` after it
 * could never refuse anything and would only walk the tree a second time (about a third of the cost).
 *
 * @throws the decoder's ProtocolError: ERR_DICT_TOO_LARGE, ERR_DECODE, ERR_DICT_TOO_DEEP, ERR_DICT_INVALID,
 *   ERR_XML_FORBIDDEN, ERR_UNSAFE_INTEGER, ERR_FORMAT_UNSUPPORTED.
 */
export function checkDict(
  bytes: Uint8Array,
  format: DictFormat,
  limits: DictLimits,
  wanted: DictViewsWanted,
): DictViews {
  const dict = decodeDict(bytes, format, limits);
  const views: DictViews = {};
  if (wanted.preview) views.preview = jsonHead(dict, PREVIEW_CHARS, 0).text;
  if (wanted.screenChars > 0) views.screen = jsonHead(dict, wanted.screenChars);
  return views;
}
