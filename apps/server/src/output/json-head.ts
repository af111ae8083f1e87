/**
 * The first part of a dictionary as JSON text, written only as far as it is shown. `JSON.stringify(dict, null, 2)`
 * of a 1 MiB dictionary dense with small nodes is several MiB of string, built whole even when the screen shows
 * 64 KiB of it; this stops once `maxChars` are written. The text is what `JSON.stringify` gives (same spacing,
 * same escapes), then made safe for a terminal (./printable.ts `jsonSafe`).
 */
import type { Dict, DictValue } from '@proj/protocol';
import { jsonSafe } from './printable';

/** Thrown inside the walk once enough is written; never escapes this module. */
class Enough extends Error {}

export interface JsonHead {
  /** The JSON text, whole or cut after a whole line (pretty) or at `maxChars` (compact). */
  text: string;
  /** True when `text` is the whole value. */
  complete: boolean;
}

/**
 * `value` as JSON, pretty-printed with `indent` spaces (0: compact, one line), at most about `maxChars` of it.
 * A pretty head is cut after its last whole line, a compact one at `maxChars` with `…` appended.
 */
export function jsonHead(value: Dict | DictValue, maxChars: number, indent = 2): JsonHead {
  const parts: string[] = [];
  let length = 0;
  const emit = (s: string): void => {
    parts.push(s);
    length += s.length;
    if (length > maxChars) throw new Enough();
  };
  const newline = (depth: number): void => {
    if (indent > 0) emit(`\n${' '.repeat(depth * indent)}`);
  };
  const walk = (v: DictValue | Dict, depth: number): void => {
    if (v === null || typeof v !== 'object') {
      emit(JSON.stringify(v) ?? 'null');
      return;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) {
        emit('[]');
        return;
      }
      emit('[');
      v.forEach((item, i) => {
        if (i > 0) emit(',');
        newline(depth + 1);
        walk(item, depth + 1);
      });
      newline(depth);
      emit(']');
      return;
    }
    const keys = Object.keys(v);
    if (keys.length === 0) {
      emit('{}');
      return;
    }
    emit('{');
    keys.forEach((key, i) => {
      if (i > 0) emit(',');
      newline(depth + 1);
      emit(`${JSON.stringify(key)}:${indent > 0 ? ' ' : ''}`);
      walk(v[key] as DictValue, depth + 1);
    });
    newline(depth);
    emit('}');
  };
  try {
    walk(value, 0);
    return { text: jsonSafe(parts.join('')), complete: true };
  } catch (err) {
    if (!(err instanceof Enough)) throw err;
  }
  const text = parts.join('').slice(0, maxChars);
  if (indent === 0) return { text: `${jsonSafe(text)}…`, complete: false };
  const lastLine = text.lastIndexOf('\n');
  return { text: jsonSafe(lastLine > 0 ? text.slice(0, lastLine) : text), complete: false };
}
