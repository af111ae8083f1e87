/**
 * The dictionary decoder pool (src/dict-check/dict-decoder-pool.ts): real worker threads give exactly what decoding on the
 * main thread gives (`validateDict(decodeDict(...))` as the session does today, then the preview and the screen's
 * head of the JSON): the same texts, or an error of the same class, code, message and fields. A worker that dies
 * mid-job fails that job with ERR_INTERNAL and is replaced; a closed pool fails what it holds and leaves nothing
 * running; idle workers do not keep a process alive.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InternalError, ProtocolError } from '@proj/protocol';
import {
  DICT_FORMATS,
  decodeDict,
  encodeDict,
  validateDict,
  type Dict,
  type DictFormat,
  type DictLimits,
} from '@proj/protocol/dict';
import type { DictViews } from '../src/dict-check/dict-check';
import { DictDecoderPool, type DecodeOptions } from '../src/dict-check/dict-decoder-pool';
import { jsonHead } from '../src/output/json-head';
import { SCREEN_MAX_BYTES } from '../src/output/output';
import { buildServer, Rng, SERVER_DIR } from './reliability/harness';

const VECTORS = join(__dirname, '../../../spec/vectors/dict');
const FILES: Record<DictFormat, string> = { json: 'sample.json', xml: 'sample.xml', protobuf: 'sample.pb' };
const LIMITS: DictLimits = { maxDictBytes: 1024 * 1024, maxDictDepth: 32 };
const WANT_ALL = { preview: true, screenChars: SCREEN_MAX_BYTES };
/** The densest kind of 1 MiB dictionary: 349,000 empty objects. Decoding it takes 48-64 MiB of heap. */
const HEAVY = Buffer.from(`{"a":[${'{},'.repeat(348_999)}{}]}`);

type Outcome =
  | { views: { preview?: string; screen?: { text: string; complete: boolean } } }
  | { error: { class: string; code: string; message: string; fields: Record<string, unknown> } };

/** Decoding on the main thread as session/dict-put.ts does for a small body, and the texts the screen and the prompt show. */
function today(bytes: Uint8Array, format: DictFormat, limits: DictLimits): Outcome {
  let dict: Dict;
  try {
    dict = validateDict(decodeDict(bytes, format, limits), limits);
  } catch (err) {
    return { error: describeError(err) };
  }
  return { views: { preview: jsonHead(dict, 200, 0).text, screen: jsonHead(dict, SCREEN_MAX_BYTES) } };
}

function describeError(err: unknown): {
  class: string;
  code: string;
  message: string;
  fields: Record<string, unknown>;
} {
  if (!(err instanceof ProtocolError)) throw err;
  const { code, name, ...fields } = { ...err };
  return { class: err.constructor.name, code, message: err.message, fields: { name, ...fields } };
}

/** The texts `today` gives for input it accepts. */
function viewsToday(bytes: Uint8Array, format: DictFormat, limits: DictLimits): DictViews {
  const outcome = today(bytes, format, limits);
  if (!('views' in outcome)) throw new Error(`expected a valid dictionary, got ${JSON.stringify(outcome.error)}`);
  return outcome.views;
}

async function outcomeOf(pool: DictDecoderPool, bytes: Uint8Array, options: DecodeOptions): Promise<Outcome> {
  try {
    return { views: await pool.decode(bytes, options) };
  } catch (err) {
    return { error: describeError(err) };
  }
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Inputs every format must refuse, with the limits to refuse them under. */
function invalidInputs(): Array<{ label: string; format: DictFormat; bytes: Uint8Array; limits: DictLimits }> {
  const deep = (n: number): Dict => {
    let v: Dict = {};
    for (let i = 1; i < n; i++) v = { k: v };
    return v;
  };
  const big = encodeDict({ a: 'x'.repeat(3000) }, 'json');
  const out: Array<{ label: string; format: DictFormat; bytes: Uint8Array; limits: DictLimits }> = [];
  for (const format of DICT_FORMATS) {
    const sample = readFileSync(join(VECTORS, FILES[format]));
    out.push(
      { label: 'cut in half', format, bytes: sample.subarray(0, sample.length >> 1), limits: LIMITS },
      { label: 'invalid UTF-8', format, bytes: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), limits: LIMITS },
      { label: 'empty', format, bytes: new Uint8Array(0), limits: LIMITS },
      {
        label: 'over maxDictBytes',
        format,
        bytes: encodeDict({ a: 'x'.repeat(3000) }, format),
        limits: { ...LIMITS, maxDictBytes: 2000 },
      },
      {
        label: 'deeper than maxDictDepth',
        format,
        bytes: encodeDict(deep(6), format),
        limits: { ...LIMITS, maxDictDepth: 5 },
      },
      { label: 'garbage', format, bytes: Buffer.from('garbage \u0000\u0001 <<<>>> {{{'), limits: LIMITS },
    );
  }
  out.push(
    { label: 'a non-object root', format: 'json', bytes: utf8('[1,2]'), limits: LIMITS },
    { label: 'a number beyond double range', format: 'json', bytes: utf8('{"n":1e400}'), limits: LIMITS },
    { label: 'a lone surrogate', format: 'json', bytes: utf8('{"s":"\\ud800"}'), limits: LIMITS },
    {
      label: 'a BOM',
      format: 'json',
      bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('{}')]),
      limits: LIMITS,
    },
    {
      label: 'over maxDictBytes by one byte',
      format: 'json',
      bytes: big,
      limits: { ...LIMITS, maxDictBytes: big.length - 1 },
    },
    {
      label: 'a DOCTYPE',
      format: 'xml',
      bytes: utf8('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><dict/>'),
      limits: LIMITS,
    },
    { label: 'a processing instruction', format: 'xml', bytes: utf8('<dict><?php x ?></dict>'), limits: LIMITS },
    {
      label: 'an undefined entity',
      format: 'xml',
      bytes: utf8('<dict><string key="a">&nope;</string></dict>'),
      limits: LIMITS,
    },
    {
      label: 'a mismatched end tag',
      format: 'xml',
      bytes: utf8('<dict><object key="a"></array></dict>'),
      limits: LIMITS,
    },
    // Struct { fields: { "n": Value { number_value: 2^53 } } }, by hand: the encoder refuses to write it.
    {
      label: 'an unsafe integer',
      format: 'protobuf',
      bytes: Buffer.from('0a0e' + '0a016e' + '1209' + '11' + '0000000000004043', 'hex'),
      limits: LIMITS,
    },
    { label: 'a Value with no kind', format: 'protobuf', bytes: Buffer.from('0a050a016e1200', 'hex'), limits: LIMITS },
  );
  return out;
}

describe('the decoder pool answers exactly as decoding on the main thread does today', () => {
  // inlineBelowBytes 0: every body goes to a worker.
  const pool = new DictDecoderPool({ size: 2, inlineBelowBytes: 0 });
  const inline = new DictDecoderPool({ size: 0 });
  afterAll(() => Promise.all([pool.close(), inline.close()]));

  it.each(DICT_FORMATS)('%s golden vector', async (format) => {
    const bytes = readFileSync(join(VECTORS, FILES[format]));
    const expected = today(bytes, format, LIMITS);
    expect(expected).toHaveProperty('views');
    const options = { format, limits: LIMITS, wanted: WANT_ALL };
    expect(await outcomeOf(pool, bytes, options)).toEqual(expected);
    expect(await outcomeOf(inline, bytes, options)).toEqual(expected);
    expect(pool.workersStarted).toBeGreaterThan(0);
    expect(inline.workersStarted).toBe(0);
  });

  it('invalid inputs in every format: the same class, code, message and fields', async () => {
    const cases = invalidInputs();
    const codes = new Set<string>();
    for (const { label, format, bytes, limits } of cases) {
      const expected = today(bytes, format, limits);
      const options = { format, limits, wanted: WANT_ALL };
      const got = await outcomeOf(pool, bytes, options);
      expect({ label, format, got }).toEqual({ label, format, got: expected });
      expect({ label, format, got: await outcomeOf(inline, bytes, options) }).toEqual({ label, format, got: expected });
      if ('error' in got) codes.add(got.error.code);
    }
    // The set covers every refusal a dictionary body can get.
    expect([...codes].sort()).toEqual([
      'ERR_DECODE',
      'ERR_DICT_INVALID',
      'ERR_DICT_TOO_DEEP',
      'ERR_DICT_TOO_LARGE',
      'ERR_UNSAFE_INTEGER',
      'ERR_XML_FORBIDDEN',
    ]);
  });

  it('the golden vectors with bytes flipped, cut or inserted (seeded): the same outcome', async () => {
    const rng = new Rng(11);
    for (const format of DICT_FORMATS) {
      const sample = readFileSync(join(VECTORS, FILES[format]));
      for (let n = 0; n < 60; n++) {
        const at = rng.int(0, sample.length - 1);
        const how = rng.pick(['flip', 'cut', 'insert'] as const);
        const bytes =
          how === 'flip'
            ? Buffer.from(sample.map((b, i) => (i === at ? b ^ (rng.int(0, 255) | 1) : b)))
            : how === 'cut'
              ? sample.subarray(0, at)
              : Buffer.concat([sample.subarray(0, at), Buffer.from([rng.int(0, 255)]), sample.subarray(at)]);
        const expected = today(bytes, format, LIMITS);
        expect({
          format,
          how,
          at,
          got: await outcomeOf(pool, bytes, { format, limits: LIMITS, wanted: WANT_ALL }),
        }).toEqual({ format, how, at, got: expected });
      }
    }
  });

  it('a dense 1 MiB dictionary: the same preview and the same cut head of its JSON', async () => {
    const expected = today(HEAVY, 'json', LIMITS);
    expect(expected).toMatchObject({ views: { screen: { complete: false } } });
    expect(await outcomeOf(pool, HEAVY, { format: 'json', limits: LIMITS, wanted: WANT_ALL })).toEqual(expected);
  });

  it('renders only the texts asked for, and leaves the caller its bytes', async () => {
    const bytes = readFileSync(join(VECTORS, FILES.json));
    const copy = Buffer.from(bytes);
    const views = await pool.decode(bytes, {
      format: 'json',
      limits: LIMITS,
      wanted: { preview: true, screenChars: 0 },
    });
    expect(Object.keys(views)).toEqual(['preview']);
    expect(
      await pool.decode(bytes, { format: 'json', limits: LIMITS, wanted: { preview: false, screenChars: 0 } }),
    ).toEqual({});
    expect(bytes.equals(copy)).toBe(true);
  });
});

describe('the inline threshold', () => {
  it('checks bodies below it on the calling thread and starts a worker only for one at or above it', async () => {
    const small = encodeDict({ a: 'x'.repeat(100) }, 'json');
    const pool = new DictDecoderPool({ size: 1, inlineBelowBytes: small.length + 1 });
    try {
      await pool.decode(small, { format: 'json', limits: LIMITS, wanted: WANT_ALL });
      expect(pool.workersStarted).toBe(0);
      const large = encodeDict({ a: 'x'.repeat(101) }, 'json');
      expect(await pool.decode(large, { format: 'json', limits: LIMITS, wanted: WANT_ALL })).toEqual(
        viewsToday(large, 'json', LIMITS),
      );
      expect(pool.workersStarted).toBe(1);
    } finally {
      await pool.close();
    }
  });
});

describe('a worker that dies mid-job', () => {
  it('fails that job with ERR_INTERNAL, and the next job gets a new worker', async () => {
    // A heap limit the worker starts in but the heavy dictionary cannot fit: V8 ends the worker in the middle of
    // decoding it (ERR_WORKER_OUT_OF_MEMORY).
    const pool = new DictDecoderPool({ size: 1, inlineBelowBytes: 0, workerHeapMiB: 16 });
    try {
      const small = Buffer.from(encodeDict({ ok: true }, 'json'));
      const options = { format: 'json' as const, limits: LIMITS, wanted: WANT_ALL };
      await expect(pool.decode(small, options)).resolves.toEqual(viewsToday(small, 'json', LIMITS));
      const heavy = pool.decode(HEAVY, options);
      const queued = pool.decode(small, options); // waits behind the heavy one, then runs on the replacement
      await expect(heavy).rejects.toMatchObject({
        code: 'ERR_INTERNAL',
        message: 'internal error (details in the server log)',
      });
      const err = (await heavy.catch((e: unknown) => e)) as InternalError;
      expect(err).toBeInstanceOf(InternalError);
      expect(err.cause).toMatchObject({
        message: 'the dictionary decoder worker exited (code 1) during a job',
        cause: { code: 'ERR_WORKER_OUT_OF_MEMORY' },
      });
      await expect(queued).resolves.toEqual(viewsToday(small, 'json', LIMITS));
      expect(pool.workersStarted).toBe(2);
      expect(pool.workers).toBe(1);
    } finally {
      await pool.close();
    }
  });
});

describe('queue, withdrawal and close', () => {
  const options = { format: 'json' as const, limits: LIMITS, wanted: WANT_ALL };

  it('refuses a job past maxQueued with ERR_INTERNAL, and drops a withdrawn job before it runs', async () => {
    const pool = new DictDecoderPool({ size: 1, inlineBelowBytes: 0, maxQueued: 2 });
    try {
      const running = pool.decode(HEAVY, options);
      const withdraw = new AbortController();
      const withdrawn = pool.decode(HEAVY, { ...options, signal: withdraw.signal });
      const waiting = pool.decode(HEAVY, options);
      expect(pool.queued).toBe(2);
      await expect(pool.decode(HEAVY, options)).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
      withdraw.abort(new Error('the session closed'));
      await expect(withdrawn).rejects.toThrow('the session closed');
      expect(pool.queued).toBe(1);
      await expect(running).resolves.toHaveProperty('preview');
      await expect(waiting).resolves.toHaveProperty('preview');
      expect(pool.workersStarted).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('a worker idle for idleMs ends, and the next large body starts another', async () => {
    const pool = new DictDecoderPool({ size: 1, inlineBelowBytes: 0, idleMs: 50 });
    try {
      const body = Buffer.from('{"a":1}');
      await expect(pool.decode(body, options)).resolves.toEqual(viewsToday(body, 'json', LIMITS));
      expect(pool.workers).toBe(1);
      for (let waited = 0; pool.workers > 0 && waited < 10_000; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      expect(pool.workers).toBe(0);
      await expect(pool.decode(body, options)).resolves.toEqual(viewsToday(body, 'json', LIMITS));
      expect(pool.workersStarted).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('close fails the running and the waiting jobs with ERR_SHUTTING_DOWN, ends the workers, and refuses later jobs', async () => {
    const pool = new DictDecoderPool({ size: 1, inlineBelowBytes: 0 });
    const running = expect(pool.decode(HEAVY, options)).rejects.toMatchObject({ code: 'ERR_SHUTTING_DOWN' });
    const waiting = expect(pool.decode(HEAVY, options)).rejects.toMatchObject({ code: 'ERR_SHUTTING_DOWN' });
    expect([pool.workers, pool.queued]).toEqual([1, 1]);
    await pool.close();
    await running;
    await waiting;
    expect(pool.workers).toBe(0);
    await expect(pool.decode(Buffer.from('{}'), options)).rejects.toMatchObject({ code: 'ERR_SHUTTING_DOWN' });
    await pool.close(); // twice is fine
  });
});

describe('from the build (node dist/…)', () => {
  beforeAll(() => buildServer(), 120_000);

  it('decodes in a worker, and a process whose pool is idle and never closed exits by itself', () => {
    const script = `
      const { DictDecoderPool } = require('./dist/dict-check/dict-decoder-pool.js');
      const pool = new DictDecoderPool({ size: 1, inlineBelowBytes: 0 });
      pool.decode(Buffer.from('{"a":[1,{}]}'), { format: 'json', limits: {}, wanted: { preview: true, screenChars: 0 } })
        .then((v) => console.log(JSON.stringify({ views: v, workers: pool.workers })));
    `;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: SERVER_DIR, encoding: 'utf8', timeout: 20_000 });
    expect(r.error).toBeUndefined(); // a process kept alive by its worker would be killed by the timeout
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ views: { preview: '{"a":[1,{}]}' }, workers: 1 });
  }, 30_000);
});
