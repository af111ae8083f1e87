/**
 * Serializers: encode and decode throughput of the three dictionary formats on a mid-size dictionary, against
 * plain `JSON.stringify` / `JSON.parse` on the same dictionary, in this process.
 *
 * Ours encodes to UTF-8 bytes and validates the tree (model, depth, size); decodes bytes and validates. The
 * baseline works on a JS string and validates nothing: it is the floor any JSON-based format starts from.
 */
import { formatBytes } from '@proj/cli-kit';
import { decodeDict, DICT_FORMATS, encodeDict, type Dict } from '@proj/protocol/dict';
import type { BenchConfig } from '../config';
import { Better, type Row } from '../table';
import { formatPerSecond, formatRate } from '../units';

/** A deterministic mid-size dictionary: 100 records of the kinds of values users send (about 16 KiB as JSON). */
export function midSizeDict(records = 100): Dict {
  const items: Dict[] = [];
  for (let i = 0; i < records; i++) {
    items.push({
      id: i,
      name: `user ${i} ${'x'.repeat(i % 7)}`,
      email: `user${i}@example.org`,
      active: i % 3 !== 0,
      score: Math.round(i * 1.37 * 1000) / 1000,
      tags: ['alpha', 'beta', i % 2 === 0 ? 'even' : 'odd'],
      address: { street: `${i} Main Street`, city: 'Springfield', zip: `${10000 + i}` },
      note: i % 10 === 0 ? null : 'ok',
    });
  }
  return { kind: 'export', version: 3, generatedAt: '2025-01-01T00:00:00Z', items };
}

/** Calls `fn` for `ms` after a short warm-up; returns calls per second. */
export function opsPerSecond(fn: () => unknown, ms: number): number {
  const run = (budgetMs: number): number => {
    const until = performance.now() + budgetMs;
    let n = 0;
    let batch = 1;
    let start = performance.now();
    const t0 = start;
    while (start < until) {
      for (let i = 0; i < batch; i++) fn();
      n += batch;
      const now = performance.now();
      // Grow the batch until one takes about a millisecond, so the clock is not what is measured.
      if (now - start < 1) batch *= 2;
      start = now;
    }
    return (n * 1000) / (start - t0);
  };
  run(Math.max(50, ms / 5));
  return run(ms);
}

/** Issue #16's targets, as ratios to JSON.stringify / JSON.parse; JSON itself and protobuf encoding have none. */
export const SERIALIZER_TARGETS: Readonly<Record<string, { encode?: number; decode?: number }>> = {
  xml: { encode: 0.2, decode: 0.3 },
  protobuf: { decode: 0.4 },
};

function targeted(ratio: number, at: number | undefined): Pick<Row, 'target' | 'met'> {
  return at === undefined ? { target: '' } : { target: `ratio ≥ ${at.toFixed(2)}`, met: ratio >= at };
}

export function serializerRows(config: BenchConfig): Row[] {
  const dict = midSizeDict();
  const text = JSON.stringify(dict);
  const textBytes = Buffer.byteLength(text);
  const stringify = opsPerSecond(() => JSON.stringify(dict), config.serializerMs);
  const parse = opsPerSecond(() => JSON.parse(text), config.serializerMs);
  const rows: Row[] = [];
  for (const format of DICT_FORMATS) {
    const bytes = encodeDict(dict, format);
    config.progress(`serializers: ${format} (${formatBytes(bytes.length)})`);
    const encode = opsPerSecond(() => encodeDict(dict, format), config.serializerMs);
    const decode = opsPerSecond(() => decodeDict(bytes, format), config.serializerMs);
    const cell = (perSecond: number, size: number): string =>
      `${formatPerSecond(perSecond)} (${formatRate(perSecond * size)})`;
    rows.push(
      {
        name: `encode ${format}, ${formatBytes(bytes.length)} dict`,
        ours: cell(encode, bytes.length),
        baseline: `JSON.stringify ${cell(stringify, textBytes)}`,
        ratio: encode / stringify,
        better: Better.Higher,
        ...targeted(encode / stringify, SERIALIZER_TARGETS[format]?.encode),
      },
      {
        name: `decode ${format}, ${formatBytes(bytes.length)} dict`,
        ours: cell(decode, bytes.length),
        baseline: `JSON.parse ${cell(parse, textBytes)}`,
        ratio: decode / parse,
        better: Better.Higher,
        ...targeted(decode / parse, SERIALIZER_TARGETS[format]?.decode),
      },
    );
  }
  return rows;
}
