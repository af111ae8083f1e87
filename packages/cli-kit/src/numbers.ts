/**
 * Whole numbers a person types, as a flag, a variable, a config file value or a prompt's answer: counts and
 * ports. Text must be digits and nothing else (a caller that allows padding trims first); a config file may give a
 * number. Anything else is a UsageError (exit code 2) worded the same way in both programs: where the value came
 * from, what it must be, and what was found (`--retries must be a whole number from 0 to 100, found "many"`).
 */
import { UsageError } from './usage-error';

export interface CountOptions {
  /** The largest value accepted; default Number.MAX_SAFE_INTEGER. */
  max?: number;
}

export interface PortOptions {
  /** Accept 0 (a server listening on any free port); default false (a port to connect to). */
  allowZero?: boolean;
}

/** A count from 0 to `max`; `what` names where it came from (`--retries`, `maxConnections in config.json`). */
export function parseCount(text: string | number, what: string, options: CountOptions = {}): number {
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return parseWhole(text, what, { min: 0, max, noun: 'a whole number' });
}

/** A TCP port, 1 to 65535 (0 to 65535 with `allowZero`). */
export function parsePort(text: string | number, what = '--port', options: PortOptions = {}): number {
  const min = options.allowZero ? 0 : 1;
  return parseWhole(text, what, { min, max: 65535, noun: 'a port number' });
}

const DIGITS = /^\d+$/;

interface Rule {
  min: number;
  max: number;
  /** What the value must be. */
  noun: string;
}

function parseWhole(text: string | number, what: string, { min, max, noun }: Rule): number {
  const digits = typeof text === 'number' || DIGITS.test(text);
  const n = Number(text);
  if (digits && Number.isSafeInteger(n) && n >= min && n <= max) return n;
  const range = max === Number.MAX_SAFE_INTEGER ? `from ${min} up` : `from ${min} to ${max}`;
  throw new UsageError(`${what} must be ${noun} ${range}, found ${shown(text)}`);
}

/** The value as found, quoted, cut to 40 characters. */
export function shown(text: string | number): string {
  const s = String(text);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
