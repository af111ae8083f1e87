/**
 * The dictionary being built at the prompt, as plain data, and the pure functions that change it.
 * The prompt flow (`dict-builder.ts`) only asks questions and calls these; tests call them directly.
 *
 * A draft keeps entries in the order they were added and never uses object keys for storage, so a key such as
 * `__proto__` or `constructor` is an ordinary key (docs/PROTOCOL.md §5: any string is a key).
 */
import type { Dict, DictValue } from '@proj/protocol';

export interface DraftDict {
  readonly kind: 'dict';
  readonly entries: readonly DraftEntry[];
}
export interface DraftList {
  readonly kind: 'list';
  readonly items: readonly DraftValue[];
}
export interface DraftEntry {
  readonly key: string;
  readonly value: DraftValue;
}
export type DraftValue = string | number | boolean | null | DraftDict | DraftList;

/** The kinds of value a person can pick at the prompt, in menu order. */
export const VALUE_KINDS = ['text', 'number', 'true', 'false', 'null', 'dictionary', 'list'] as const;
export type ValueKind = (typeof VALUE_KINDS)[number];

export function emptyDict(): DraftDict {
  return { kind: 'dict', entries: [] };
}

export function emptyList(): DraftList {
  return { kind: 'list', items: [] };
}

export function isDraftDict(value: DraftValue): value is DraftDict {
  return typeof value === 'object' && value !== null && value.kind === 'dict';
}

export function isDraftList(value: DraftValue): value is DraftList {
  return typeof value === 'object' && value !== null && value.kind === 'list';
}

/** The kind of a value, as the prompt names it. */
export function kindOf(value: DraftValue): ValueKind {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return 'number';
  return value.kind === 'dict' ? 'dictionary' : 'list';
}

/** The keys of a dictionary draft, in order. */
export function keysOf(dict: DraftDict): string[] {
  return dict.entries.map((e) => e.key);
}

export function getEntry(dict: DraftDict, key: string): DraftValue | undefined {
  return dict.entries.find((e) => e.key === key)?.value;
}

/**
 * Checks a key typed for a new entry. Returns the message to show, or undefined when the key is fine.
 * A key made only of spaces counts as empty: it is almost always a slip of the finger.
 */
export function checkNewKey(dict: DraftDict, key: string): string | undefined {
  if (key.trim() === '') return 'A key cannot be empty. Type a name for this entry.';
  if (dict.entries.some((e) => e.key === key)) {
    return `The key ${JSON.stringify(key)} is already in this dictionary. Type another key, or choose "Edit an entry" to change its value.`;
  }
  return undefined;
}

export type NumberParse = { ok: true; value: number } | { ok: false; message: string };

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Reads a number written as JSON writes numbers (`-12`, `3.5`, `1e3`). Refuses anything else — `0x10`, `1_000`,
 * `NaN`, `Infinity`, `.5`, an empty line — and integers a double cannot hold exactly.
 */
export function parseNumber(text: string): NumberParse {
  const t = text.trim();
  if (t === '') return { ok: false, message: 'Type a number, for example 42, -3.5 or 1e6.' };
  if (!JSON_NUMBER.test(t)) {
    return {
      ok: false,
      message: `${JSON.stringify(t.slice(0, 40))} is not a number. Type digits, for example 42, -3.5 or 1e6.`,
    };
  }
  const value = Number(t);
  if (!Number.isFinite(value))
    return { ok: false, message: `${t.slice(0, 40)} is too large to be a number. Enter it as text instead.` };
  // An integer written out in full that a double cannot hold (beyond 2^53 most cannot) would be stored, and
  // printed back, as a different number: refuse it rather than round it silently. Digits that print back the
  // same (as JSON writes 1e20 or 123456789012345680000) are fine.
  if (/^-?\d+$/.test(t) && !Number.isSafeInteger(value) && BigInt(t) !== BigInt(plainDigits(value))) {
    return {
      ok: false,
      message: `${t.slice(0, 40)} is an integer too large to be kept exactly (beyond 2^53). Enter it as text instead.`,
    };
  }
  return { ok: true, value: Object.is(value, -0) ? 0 : value };
}

/** The shortest decimal form of an integral double, written without an exponent (`1e+21` -> `1000…0`). */
function plainDigits(value: number): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e\+(\d+)$/.exec(String(value));
  if (!m) return String(value);
  const digits = `${m[2]}${m[3] ?? ''}`;
  return `${m[1]}${digits.padEnd(Number(m[4]) + 1, '0')}`;
}

/** Adds `key` at the end, or replaces its value where it is. */
export function setEntry(dict: DraftDict, key: string, value: DraftValue): DraftDict {
  const at = dict.entries.findIndex((e) => e.key === key);
  if (at < 0) return { kind: 'dict', entries: [...dict.entries, { key, value }] };
  const entries = dict.entries.slice();
  entries[at] = { key, value };
  return { kind: 'dict', entries };
}

export function removeEntry(dict: DraftDict, key: string): DraftDict {
  return { kind: 'dict', entries: dict.entries.filter((e) => e.key !== key) };
}

export function appendItem(list: DraftList, value: DraftValue): DraftList {
  return { kind: 'list', items: [...list.items, value] };
}

export function setItem(list: DraftList, index: number, value: DraftValue): DraftList {
  if (index < 0 || index >= list.items.length)
    throw new RangeError(`no item ${index} in a list of ${list.items.length}`);
  const items = list.items.slice();
  items[index] = value;
  return { kind: 'list', items };
}

export function removeItem(list: DraftList, index: number): DraftList {
  return { kind: 'list', items: list.items.filter((_, i) => i !== index) };
}

/** The value the draft stands for, ready to encode. */
export function toDictValue(value: DraftValue): DictValue {
  if (value === null || typeof value !== 'object') return value;
  if (value.kind === 'list') return value.items.map(toDictValue);
  return toDict(value);
}

export function toDict(dict: DraftDict): Dict {
  const out: Record<string, DictValue> = {};
  for (const { key, value } of dict.entries) {
    // defineProperty, not assignment: `out["__proto__"] = …` would change the prototype instead of adding a key.
    Object.defineProperty(out, key, {
      value: toDictValue(value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out as Dict;
}

/** A draft holding `dict` (used to start from existing data). */
export function fromDict(dict: Dict): DraftDict {
  return {
    kind: 'dict',
    entries: Object.keys(dict).map((key) => ({ key, value: fromDictValue(dict[key] as DictValue) })),
  };
}

/** A draft value holding `value`. */
export function fromDictValue(value: DictValue): DraftValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return { kind: 'list', items: value.map(fromDictValue) };
  return fromDict(value as Dict);
}

/** The draft as indented JSON, for review. */
export function renderDraft(value: DraftValue): string {
  return JSON.stringify(toDictValue(value), null, 2);
}

/** A one-line summary of a value for menus: `"hello"`, `42`, `{2 entries}`, `[3 items]`. */
export function summarize(value: DraftValue, max = 40): string {
  if (isDraftDict(value)) return `{${plural(value.entries.length, 'entry', 'entries')}}`;
  if (isDraftList(value)) return `[${plural(value.items.length, 'item', 'items')}]`;
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `1 entry`, `3 entries`. */
export function entryCount(n: number): string {
  return plural(n, 'entry', 'entries');
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Nesting depth as the protocol counts it: the root dictionary is depth 1. */
export function depthOf(value: DraftValue): number {
  if (isDraftDict(value)) return 1 + Math.max(0, ...value.entries.map((e) => depthOf(e.value)));
  if (isDraftList(value)) return 1 + Math.max(0, ...value.items.map(depthOf));
  return 0;
}
