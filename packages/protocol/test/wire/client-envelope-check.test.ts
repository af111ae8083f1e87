/**
 * The zod-free reading of client envelopes (src/wire/client-envelope-check.ts) against the zod schemas, the source
 * of truth: whatever the check takes, the schemas take too, with the same value; it takes every valid envelope
 * (so a server reads them without loading zod); and what the schemas refuse, it leaves to them. Each valid
 * envelope is also broken field by field: removed, replaced by values of every JSON kind and the edges of each
 * limit, and joined by unknown fields.
 */
import { checkClientMessage, helloVersion } from '../../src/wire/client-envelope-check';
import { clientMessageSchema, helloVersionSchema, resumeClientMessageSchema } from '../../src/wire/envelope-schemas';

const SHA = 'ab'.repeat(32);

const VALID: Record<string, unknown>[] = [
  { type: 'hello', version: 1 },
  { type: 'hello', version: 2, capabilities: [] },
  {
    type: 'hello',
    version: 1,
    capabilities: ['resume', 'pending-notice', 'Not A Name', ''],
    agent: 'proj-client/1',
    token: 't',
  },
  {
    type: 'hello',
    version: 0,
    capabilities: Array.from({ length: 64 }, (_, i) => `c${i}`),
    agent: '',
    token: 'x'.repeat(4096),
  },
  { type: 'put_dict', id: 'a', format: 'json', bytes: 0 },
  { type: 'put_dict', id: `A${'._:-9'.repeat(25)}`, format: 'xml', bytes: Number.MAX_SAFE_INTEGER },
  { type: 'put_dict', id: '0', format: 'protobuf', bytes: 12 },
  { type: 'put_file', id: 'f1', name: 'notes.txt' },
  { type: 'put_file', id: 'f1', name: 'x'.repeat(1024), size: 0, offset: 0, encryption: 'age' },
  { type: 'put_file', id: 'f1', name: '../../etc/passwd', size: 10, encryption: 'none' },
  { type: 'put_file', id: 'f1', name: 'n', offset: 5 },
  { type: 'file_end', id: 'f1', bytes: 10, sha256: SHA },
  { type: 'cancel', id: 'f1' },
  { type: 'ping' },
  { type: 'ping', nonce: '' },
  { type: 'ping', nonce: 'n'.repeat(64) },
  { type: 'bye' },
];
const VALID_RESUME: Record<string, unknown>[] = [
  { type: 'put_file', id: 'f1', name: 'n', resume: true },
  { type: 'put_file', id: 'f1', name: 'n', size: 3, resume: false, encryption: 'age', offset: 0 },
];

/** Values of every JSON kind and at the edges of the limits the envelopes use. */
const VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1,
  1.5,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  1e308,
  '',
  'a',
  'json',
  'age',
  'none',
  'hello',
  SHA,
  SHA.toUpperCase(),
  `${SHA}0`,
  '-a',
  'a b',
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(128),
  'x'.repeat(129),
  'x'.repeat(1025),
  'x'.repeat(4097),
  'é'.repeat(64),
  [],
  [''],
  ['resume'],
  [1],
  [null],
  ['x'.repeat(65)],
  Array.from({ length: 65 }, () => 'c'),
  {},
  { type: 'hello' },
];

/** The valid envelope `base` broken in every way: each field removed or replaced, unknown fields added. */
function broken(base: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  for (const key of [
    ...Object.keys(base),
    'capabilities',
    'agent',
    'token',
    'size',
    'offset',
    'encryption',
    'resume',
    'nonce',
  ]) {
    const without = { ...base };
    delete without[key];
    out.push(without);
    for (const value of VALUES) out.push({ ...base, [key]: value });
  }
  out.push({ ...base, extra: 1 });
  out.push(JSON.parse(`{"__proto__": {"polluted": true}, ${JSON.stringify(base).slice(1)}`));
  out.push(JSON.parse(`{"constructor": 1, ${JSON.stringify(base).slice(1)}`));
  return out;
}

/** The check against the schema on one value: what it takes, the schema takes, with the same value. */
function agree(json: unknown, resume: boolean): 'taken' | 'left' {
  const schema = resume ? resumeClientMessageSchema : clientMessageSchema;
  const byZod = schema.safeParse(json);
  const checked = checkClientMessage(json, resume);
  if (checked === undefined) return 'left';
  expect({ json, resume, zod: byZod.success }).toEqual({ json, resume, zod: true });
  if (byZod.success) {
    expect(checked).toStrictEqual(byZod.data);
    expect(Object.keys(checked)).toEqual(Object.keys(byZod.data));
  }
  return 'taken';
}

describe('client envelopes read without zod', () => {
  it('takes every valid envelope, with the value the schemas build', () => {
    for (const json of VALID) {
      expect(clientMessageSchema.safeParse(json).success).toBe(true);
      expect(agree(json, false)).toBe('taken');
      expect(agree(json, true)).toBe('taken');
    }
    for (const json of VALID_RESUME) {
      expect(resumeClientMessageSchema.safeParse(json).success).toBe(true);
      expect(agree(json, true)).toBe('taken');
      expect(agree(json, false)).toBe('left'); // `resume` is an unknown field without the capability
    }
  });

  it('never takes what the schemas refuse, whatever field is broken', () => {
    let taken = 0;
    let left = 0;
    for (const base of [...VALID, ...VALID_RESUME]) {
      for (const json of broken(base)) {
        for (const resume of [false, true]) {
          if (agree(json, resume) === 'taken') taken += 1;
          else left += 1;
        }
      }
    }
    // Both kinds were tried: brokenness the schemas accept (an optional field removed, another valid value) is taken.
    expect(taken).toBeGreaterThan(500);
    expect(left).toBeGreaterThan(5000);
  });

  it('leaves what is not an envelope object to the schemas', () => {
    for (const json of [
      null,
      1,
      'hello',
      [],
      [{ type: 'bye' }],
      { type: 'welcome' },
      { type: 'HELLO', version: 1 },
      {},
    ]) {
      expect(checkClientMessage(json, false)).toBeUndefined();
      expect(clientMessageSchema.safeParse(json).success).toBe(false);
    }
  });

  it('reads a hello’s version as helloVersionSchema does', () => {
    const samples: unknown[] = [...VALID, ...VALUES, { type: 'hello', version: 7, extra: true }, { type: 'hello' }];
    for (const base of VALID.filter((v) => v.type === 'hello')) samples.push(...broken(base));
    for (const json of samples) {
      const byZod = helloVersionSchema.safeParse(json);
      expect(helloVersion(json)).toBe(byZod.success ? byZod.data.version : undefined);
    }
  });
});
