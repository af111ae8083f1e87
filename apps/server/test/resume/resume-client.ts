/**
 * What the resume tests share: a raw client that asked for `resume` (docs/PROTOCOL.md §4, "Resuming"), and what a
 * data directory's `partials/` holds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESUME_CAPABILITY } from '@proj/protocol/wire';
import { RawClient } from '../helpers';

/**
 * A raw client for the resume tests, welcomed: it asks for `resume` unless `capabilities` says otherwise (its
 * messages parsed as such a client parses them), and writes data in frames of 256 KiB.
 */
export function resumeClient(port: number, capabilities: string[] = [RESUME_CAPABILITY]): Promise<RawClient> {
  return RawClient.welcomed(port, { capabilities }, undefined, { answerMs: 20_000, frameBytes: 256 * 1024 });
}

export function partialRecords(dataDir: string): Map<string, { durable: number; file: string; touchedAt: string }> {
  const dir = join(dataDir, 'partials');
  const out = new Map<string, { durable: number; file: string; touchedAt: string }>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      const r = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { id: string; durable: number; file: string };
      out.set(r.id, r as never);
    } catch {
      // being replaced this instant
    }
  }
  return out;
}

/** Every name in the partials directory. */
export function partialFiles(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, 'partials')).sort();
  } catch {
    return [];
  }
}
