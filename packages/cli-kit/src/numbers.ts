/**
 * Whole numbers a person types, as a flag, a variable, a config file value or a prompt's answer: counts and
 * ports. Text must be digits and nothing else (a caller that allows padding trims first); a config file may give a
 * number. Anything else is a UsageError (exit code 2) that says what was expected and what was found.
 *
 * Each app words every refusal of its own one way, and its tests hold it to that, so both wordings live here:
 * - `must-be` (the client, the default): `--retries must be a whole number from 0 to 100, found "many"`;
 * - `expected` (the server's settings, like its sizes and durations): `maxConnections: expected a whole number,
 *   got "many"`.
 */
import { UsageError } from './usage-error';

export type Wording = 'must-be' | 'expected';

export interface CountOptions {
  /** The largest value accepted; default Number.MAX_SAFE_INTEGER. */
  max?: number;
  wording?: Wording;
}

export interface PortOptions {
  /** Accept 0 (a server listening on any free port); default false (a port to connect to). */
  allowZero?: boolean;
  wording?: Wording;
}

/** A count from 0 to `max`; `what` names where it came from (`--retries`, `maxConnections in config.json`). */
export function parseCount(text: string | number, what: string, options: CountOptions = {}): number {
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return parseWhole(text, what, { min: 0, max, noun: 'a whole number', wording: options.wording ?? 'must-be' });
}

/** A TCP port, 1 to 65535 (0 to 65535 with `allowZero`). */
export function parsePort(text: string | number, what = '--port', options: PortOptions = {}): number {
  const min = options.allowZero ? 0 : 1;
  return parseWhole(text, what, { min, max: 65535, noun: 'a port number', wording: options.wording ?? 'must-be' });
}

const DIGITS = /^\d+$/;

interface Rule {
  min: number;
  max: number;
  /** What the value must be, in the `must-be` wording. */
  noun: string;
  wording: Wording;
}

function parseWhole(text: string | number, what: string, { min, max, noun, wording }: Rule): number {
  const digits = typeof text === 'number' || DIGITS.test(text);
  const n = Number(text);
  const whole = digits && Number.isSafeInteger(n) && n >= 0;
  if (whole && n >= min && n <= max) return n;
  if (wording === 'must-be')
    throw new UsageError(`${what} must be ${noun} from ${min} to ${max}, found ${shown(text)}`);
  if (!digits) throw new UsageError(`${what}: expected a whole number, got ${JSON.stringify(text)}`);
  if (!whole) throw new UsageError(`${what}: expected a non-negative whole number, got ${n}`);
  throw new UsageError(`${what}: expected ${min}-${max}, got ${n}`);
}

/** The value as found, quoted, cut to 40 characters. */
function shown(text: string | number): string {
  const s = String(text);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
