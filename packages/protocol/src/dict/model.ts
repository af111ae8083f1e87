/**
 * The dictionary value model and its limits (docs/PROTOCOL.md §5.1).
 *
 * A dictionary is a JSON-compatible value tree whose root is an object. Every encoder validates with
 * `checkTree` first and every decoder validates what it built, so the three formats agree on one model.
 * The walk is iterative: a hostile tree (deep, cyclic, or a DAG that expands to billions of nodes) ends in a
 * coded error, never in a RangeError from the JS stack.
 */
import { DictInvalidError, DictTooDeepError, DictTooLargeError, UnsafeIntegerError } from '../errors';
import { DEFAULT_LIMITS } from '../limits';

/** A value inside a dictionary: string, finite number, boolean, null, array or object. */
export type DictValue = string | number | boolean | null | DictValue[] | Dict;

/** A dictionary: an object whose values are dictionary values. The root of every encoded document. */
export interface Dict {
  [key: string]: DictValue;
}

/** Limits on a dictionary. Omitted fields take the protocol defaults (`DEFAULT_LIMITS`). */
export interface DictLimits {
  /** Deepest nesting: the root object is depth 1, an array or object inside it depth 2. Default 32. */
  maxDictDepth?: number;
  /** Largest encoded size in bytes; also bounds the value tree before encoding. Default 1 MiB. */
  maxDictBytes?: number;
}

/** `DictLimits` with every field present. */
export interface ResolvedDictLimits {
  maxDictDepth: number;
  maxDictBytes: number;
}

/** Fills omitted limits with the protocol defaults. */
export function resolveDictLimits(limits?: DictLimits): ResolvedDictLimits {
  return {
    maxDictDepth: limits?.maxDictDepth ?? DEFAULT_LIMITS.maxDictDepth,
    maxDictBytes: limits?.maxDictBytes ?? DEFAULT_LIMITS.maxDictBytes,
  };
}

export interface CheckOptions {
  /** Require an object at the root (a dictionary) rather than any value. */
  root: 'dict' | 'value';
  /** Refuse integers the binary format cannot promise to carry exactly (|n| > 2^53 - 1). */
  safeIntegers: boolean;
}

/** One node still to check, with what is needed to name its path in an error. */
interface Pending {
  value: unknown;
  depth: number;
  parent: Pending | undefined;
  segment: string | number | undefined;
}

/**
 * Whether `s` holds a lone surrogate, which cannot be written as UTF-8 (the binary format requires UTF-8
 * strings). `String.prototype.isWellFormed` (ES2024, in Node 20) says the same as `/\p{Cs}/u.test(s)`, faster.
 */
function hasLoneSurrogate(s: string): boolean {
  return !(s as string & { isWellFormed(): boolean }).isWellFormed();
}
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Checks `value` against the model and the limits, iteratively. Returns nothing; throws
 * DictInvalidError, DictTooDeepError, DictTooLargeError or (with `safeIntegers`) UnsafeIntegerError.
 *
 * Size is bounded before anything is encoded with a lower bound of every encoding: one byte per node below
 * the root plus the UTF-16 length of every string and key (a UTF-8 byte count is never smaller). A tree over
 * the bound can never encode within the limit, so it is refused without building a buffer.
 */
export function checkTree(value: unknown, limits: ResolvedDictLimits, options: CheckOptions): void {
  const { maxDictDepth, maxDictBytes } = limits;
  if (options.root === 'dict' && !isPlainObject(value)) {
    throw new DictInvalidError(`a dictionary must be an object at the root, found ${describe(value)}`);
  }
  let bytes = 0;
  const stack: Pending[] = [{ value, depth: 1, parent: undefined, segment: undefined }];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const v = node.value;
    if (node.parent !== undefined) bytes += 1;
    if (v === null || typeof v === 'boolean') {
      // nothing more to check
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new DictInvalidError(`number at ${pathOf(node)} is not finite (${v})`);
      if (options.safeIntegers && Number.isInteger(v) && !Number.isSafeInteger(v)) {
        throw new UnsafeIntegerError(pathOf(node), v);
      }
    } else if (typeof v === 'string') {
      if (hasLoneSurrogate(v)) throw new DictInvalidError(`string at ${pathOf(node)} holds a lone surrogate`);
      bytes += v.length;
    } else if (Array.isArray(v)) {
      if (node.depth > maxDictDepth) throw new DictTooDeepError(maxDictDepth);
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push({ value: v[i], depth: node.depth + 1, parent: node, segment: i });
      }
    } else if (isPlainObject(v)) {
      if (node.depth > maxDictDepth) throw new DictTooDeepError(maxDictDepth);
      if (Object.getOwnPropertySymbols(v).length > 0) {
        throw new DictInvalidError(`object at ${pathOf(node)} has symbol keys`);
      }
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        if (hasLoneSurrogate(key)) throw new DictInvalidError(`key at ${pathOf(node)} holds a lone surrogate`);
        bytes += key.length;
        stack.push({ value: v[key], depth: node.depth + 1, parent: node, segment: key });
      }
    } else {
      throw new DictInvalidError(`value at ${pathOf(node)} is ${describe(v)}, not a dictionary value`);
    }
    if (bytes > maxDictBytes) throw new DictTooLargeError(bytes, maxDictBytes);
  }
}

/**
 * Asserts that `value` is a dictionary within the limits and returns it, unchanged and uncopied.
 *
 * @throws DictInvalidError (`ERR_DICT_INVALID`) for a non-object root, a non-finite number, a lone surrogate, a
 *   symbol key, or any value that is not JSON data (undefined, bigint, function, Date, Map, class instance);
 *   DictTooDeepError (`ERR_DICT_TOO_DEEP`); DictTooLargeError (`ERR_DICT_TOO_LARGE`) when the tree alone is
 *   already larger than `maxDictBytes` could encode.
 */
export function validateDict(value: unknown, limits?: DictLimits): Dict {
  checkTree(value, resolveDictLimits(limits), { root: 'dict', safeIntegers: false });
  return value as Dict;
}

/**
 * Sets an own, enumerable property. A plain assignment of `__proto__` would change the prototype instead of
 * adding a key, so that one key is defined explicitly; a repeated key keeps its first position.
 */
export function setOwn(target: Dict, key: string, value: DictValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** True for `{}` literals and `Object.create(null)`: data, not class instances or built-ins. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Formats a path such as `$.a[0]["b c"]` for error messages. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)}]`;
  }
  return out;
}

function pathOf(node: Pending): string {
  const segments: (string | number)[] = [];
  for (let n: Pending | undefined = node; n?.segment !== undefined; n = n.parent) segments.push(n.segment);
  return formatPath(segments.reverse());
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object of class ${(v as object).constructor?.name ?? 'unknown'}`;
  return typeof v;
}
