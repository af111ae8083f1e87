/**
 * The load of the failover tests: clients that send dictionaries and files through HAProxy non-stop, each item
 * under its own put id, and that retry an item (a new connection, the same id and bytes) until it is
 * acknowledged, as the client program does (apps/client/src/link.ts). Every acknowledgement is recorded with its
 * time, so that the longest pause in acknowledgements can be measured.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Client, connect, type Receipt } from '@proj/protocol';

export interface Item {
  id: string;
  kind: 'dict' | 'file';
  bytes: Buffer;
  sha256: string;
}

export interface Acked {
  item: Item;
  receipt: Receipt;
  at: number;
}

export interface LoadResult {
  acked: Acked[];
  /** Failed attempts, by error code (each was retried). */
  failures: Record<string, number>;
  /** Failed attempts that were file puts: a server killed mid-file shows here. */
  fileFailures: number;
}

export interface LoadOptions {
  port: number;
  clients: number;
  /** Put ids start with this (unique per run). */
  prefix: string;
  /** One item in `fileEvery` is a file. */
  fileEvery: number;
  /** File sizes, bytes. */
  fileBytes: [number, number];
  /** How long one attempt may wait for each answer. */
  timeoutMs: number;
}

function sized(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

function makeItem(options: LoadOptions, client: number, n: number): Item {
  const id = `${options.prefix}-c${client}-n${n}`;
  if (n % options.fileEvery === options.fileEvery - 1) {
    const bytes = randomBytes(sized(...options.fileBytes));
    return { id, kind: 'file', bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  const dict = { client, n, text: randomBytes(sized(100, 3000)).toString('base64'), at: Date.now() };
  const bytes = Buffer.from(JSON.stringify(dict));
  return { id, kind: 'dict', bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Runs the load until `stop()` turns true; each client finishes (acknowledged) the item it is on. */
export async function runLoad(options: LoadOptions, stop: () => boolean, giveUpAt: number): Promise<LoadResult> {
  const result: LoadResult = { acked: [], failures: {}, fileFailures: 0 };
  const one = async (c: number): Promise<void> => {
    let client: Client | undefined;
    for (let n = 0; !stop(); n++) {
      const item = makeItem(options, c, n);
      for (;;) {
        try {
          client ??= await connect({
            port: options.port,
            keepAlive: false,
            retry: false,
            timeoutMs: options.timeoutMs,
          });
          const receipt =
            item.kind === 'dict'
              ? await client.sendDictBytes(item.bytes, { format: 'json', id: item.id })
              : await client.sendStream([item.bytes], { id: item.id, name: `${item.id}.bin`, size: item.bytes.length });
          result.acked.push({ item, receipt, at: Date.now() });
          break;
        } catch (err) {
          const code = String((err as { code?: unknown }).code ?? (err as Error).name);
          result.failures[code] = (result.failures[code] ?? 0) + 1;
          if (item.kind === 'file') result.fileFailures += 1;
          client?.destroy();
          client = undefined;
          if (Date.now() > giveUpAt) throw new Error(`client ${c}: ${item.id} not acknowledged in time: ${code}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
    await client?.close().catch(() => undefined);
  };
  await Promise.all(Array.from({ length: options.clients }, (_, c) => one(c)));
  return result;
}

/** The longest time without any acknowledgement between `from` and `to` (ms since the epoch). */
export function longestPause(acked: Acked[], from: number, to: number): { ms: number; at: number } {
  const times = [from, ...acked.map((a) => a.at).filter((t) => t >= from && t <= to), to].sort((a, b) => a - b);
  let best = { ms: 0, at: from };
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] as number) - (times[i - 1] as number);
    if (gap > best.ms) best = { ms: gap, at: times[i - 1] as number };
  }
  return best;
}
