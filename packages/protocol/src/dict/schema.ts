/**
 * zod schemas of the value model, for envelopes that carry a dictionary as data.
 *
 * They delegate to the iterative `checkTree` rather than composing `z.lazy`/`z.record`: a recursive zod schema
 * recurses on hostile depth, and `z.record` copies objects by assignment, which turns a `__proto__` key into a
 * prototype. Parsing returns the input itself, unchanged. Limits are the protocol defaults.
 *
 * Built at their first use, with zod loaded then (../wire/lazy-schema.ts): a server imports the codecs beside them
 * and never uses these (zod is ~4.5 MiB of its RSS, docs/BENCHMARKS.md, "Memory").
 */
import type { z } from 'zod';
import { ProtocolError } from '../errors';
import { lazySchema } from '../wire/lazy-schema';
import { checkTree, resolveDictLimits, type CheckOptions, type Dict, type DictValue } from './model';

function zod(): typeof z {
  return (require('zod') as typeof import('zod')).z;
}

const DEFAULTS = resolveDictLimits();

function refine(options: CheckOptions) {
  return (ctx: { value: unknown; issues: unknown[] }): void => {
    try {
      checkTree(ctx.value, DEFAULTS, options);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      // params.code carries the protocol code, so a caller can answer with the same code as validateDict.
      ctx.issues.push({ code: 'custom', message: err.message, input: ctx.value, params: { code: err.code } });
    }
  };
}

/** Any dictionary value: string, finite number, boolean, null, or an array or object of such, within the default limits. */
export const dictValueSchema: z.ZodType<DictValue> = lazySchema(() =>
  zod()
    .custom<DictValue>()
    .check(refine({ root: 'value', safeIntegers: false })),
);

/** A dictionary: a dictionary value whose root is an object, within the default limits. */
export const dictSchema: z.ZodType<Dict> = lazySchema(() =>
  zod()
    .custom<Dict>()
    .check(refine({ root: 'dict', safeIntegers: false })),
);
