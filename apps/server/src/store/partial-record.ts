/**
 * The record of a partial (./partials.ts): `partials/<key>.json`, what a resume checks and continues from, and the
 * key a put id is written as in file names.
 */
import type { Encryption } from '@proj/protocol';

/** What `<key>.json` holds. */
export interface PartialRecord {
  id: string;
  /** The size the put declared, if it declared one; a resume must declare the same. */
  size?: number;
  /** The encryption the put declared; a resume must declare the same. */
  encryption: Encryption;
  /** The bytes file, in `partials/`. */
  file: string;
  /** Bytes of `file` fdatasynced before this record was written: what a resume continues from. */
  durable: number;
  createdAt: string;
  touchedAt: string;
  /** The server that wrote this record. */
  owner: string;
}

/** A put id as partials' file names hold it: `:` written `%3A` (as receipts are named). */
export function idToKey(id: string): string {
  return id.replace(/:/g, '%3A');
}

export function keyToId(key: string): string {
  return key.replace(/%3A/g, ':');
}

/** A record read back; undefined when it is not one (cut short by a crash, edited by hand). */
export function parseRecord(text: string): PartialRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<PartialRecord>;
    const intOk = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
    if (typeof r.id !== 'string' || typeof r.file !== 'string' || !/^[0-9a-f]{8}-\d+\.\d+\.part$/.test(r.file)) {
      return undefined;
    }
    if (!intOk(r.durable) || (r.size !== undefined && !intOk(r.size))) return undefined;
    if (r.encryption !== 'none' && r.encryption !== 'age') return undefined;
    if (typeof r.createdAt !== 'string' || typeof r.touchedAt !== 'string' || typeof r.owner !== 'string') {
      return undefined;
    }
    return r as PartialRecord;
  } catch {
    return undefined;
  }
}
