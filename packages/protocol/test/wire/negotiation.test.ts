/**
 * Version and capability negotiation in the envelopes (docs/PROTOCOL.md §3, §4 "Handshake" and "Capabilities"):
 * the capability grammar and the negotiated set, the hello read version first, `welcome.capabilities`,
 * `error.supported`, and the server's messages read by a client that negotiated.
 */
import { codeOf, specWireVector } from '@proj/test-utils';
import { AuthError, VersionError } from '../../src/errors';
import { isCapabilityName, negotiate } from '../../src/wire/capabilities';
import { parseClientMessage, parseFirstClientMessage, parseServerMessage } from '../../src/wire/envelopes';
import { errorEnvelope } from '../../src/wire/error-envelope';
import { encodeControlFrame } from '../../src/wire/frame-encoder';
import { SUPPORTED_VERSIONS } from '../../src/limits';

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

const welcome = {
  type: 'welcome',
  version: 1,
  agent: 'a',
  serverId: 's',
  limits: { maxFrameBytes: 1, maxDictBytes: 1, maxDictDepth: 1, maxFileBytes: 1, idleTimeoutMs: 0 },
  formats: ['json'],
  encryption: { accepts: ['none'], canDecrypt: false },
};

describe('capability names', () => {
  test.each(['resume', 'resume/1', 'resume/12', 'pending-notices', 'x-acme-trace/3', 'a', 'a1-', `a${'b'.repeat(63)}`])(
    '%s is a name',
    (name) => {
      expect(isCapabilityName(name)).toBe(true);
    },
  );

  test.each([
    ['empty', ''],
    ['upper case', 'Resume'],
    ['a leading digit', '1resume'],
    ['a leading hyphen', '-resume'],
    ['a revision 0', 'resume/0'],
    ['a revision with a leading zero', 'resume/01'],
    ['two revisions', 'resume/1/2'],
    ['an empty revision', 'resume/'],
    ['a space', 'resume files'],
    ['an underscore', 'resume_files'],
    ['65 characters', `a${'b'.repeat(64)}`],
    ['non-ASCII', 'résumé'],
  ])('%s is not a name', (_label, name) => {
    expect(isCapabilityName(name)).toBe(false);
  });

  test('the negotiated set: the offered names the other side lists, in the order offered, each once', () => {
    expect(negotiate(['c', 'a', 'x-b', 'a', 'z'], ['a', 'b', 'c', 'x-b'])).toEqual(['c', 'a', 'x-b']);
    expect(negotiate(['a', 'b'], [])).toEqual([]);
    expect(negotiate([], ['a'])).toEqual([]);
  });

  test('a string that is not a name is never negotiated, even when both sides list it', () => {
    expect(negotiate(['Not A Name', 'ok'], ['Not A Name', 'ok'])).toEqual(['ok']);
  });
});

describe('hello', () => {
  test('any int is a version of the envelope; whether the server speaks it is a session matter', () => {
    expect(parseClientMessage(json({ type: 'hello', version: 0 }))).toEqual({
      type: 'hello',
      version: 0,
      capabilities: [],
    });
    expect(parseClientMessage(json({ type: 'hello', version: 2 ** 53 - 1 }))).toMatchObject({ version: 2 ** 53 - 1 });
  });

  test('capabilities keep version 1 bounds, and any string within them (unknown or ill-formed names are ignored)', () => {
    const names = ['resume/1', 'Not A Name', 'x'.repeat(64)];
    expect(parseClientMessage(json({ type: 'hello', version: 1, capabilities: names }))).toMatchObject({
      capabilities: names,
    });
    const many = Array.from({ length: 64 }, (_, i) => `c${i}`);
    expect(parseClientMessage(json({ type: 'hello', version: 1, capabilities: many }))).toMatchObject({
      capabilities: many,
    });
  });

  test.each([
    ['65 capabilities', { type: 'hello', version: 1, capabilities: Array.from({ length: 65 }, () => 'c') }],
    ['a 65-character capability', { type: 'hello', version: 1, capabilities: ['c'.repeat(65)] }],
    ['a capability that is not a string', { type: 'hello', version: 1, capabilities: [1] }],
    ['capabilities that are not a list', { type: 'hello', version: 1, capabilities: 'resume' }],
  ])('%s is ERR_BAD_MESSAGE', (_label, hello) => {
    expect(codeOf(() => parseClientMessage(json(hello)))).toBe('ERR_BAD_MESSAGE');
  });
});

describe('the first frame, read version first (what a server does)', () => {
  const first = (v: unknown): unknown => parseFirstClientMessage(json(v), [1]);

  test('a hello of a spoken version parses as any client message', () => {
    expect(first({ type: 'hello', version: 1, capabilities: ['x-a'] })).toEqual({
      type: 'hello',
      version: 1,
      capabilities: ['x-a'],
    });
  });

  test.each([
    ['version 0', { type: 'hello', version: 0 }, 0],
    ['version 2', { type: 'hello', version: 2, capabilities: [] }, 2],
    ['2^53 - 1', { type: 'hello', version: 2 ** 53 - 1 }, 2 ** 53 - 1],
    ['a later hello with fields version 1 lacks', { type: 'hello', version: 2, resume: { from: 5 } }, 2],
    ['a later hello with ill-typed fields', { type: 'hello', version: 3, capabilities: 'all', token: null }, 3],
  ])('%s is ERR_VERSION with the spoken versions', (_label, hello, got) => {
    let thrown: unknown;
    try {
      first(hello);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(VersionError);
    expect(thrown).toMatchObject({ code: 'ERR_VERSION', got, supported: [1] });
  });

  test.each([
    ['no version', { type: 'hello' }],
    ['a negative version', { type: 'hello', version: -1 }],
    ['a fractional version', { type: 'hello', version: 1.5 }],
    ['a version past 2^53 - 1', { type: 'hello', version: 2 ** 53 }],
    ['a version as a string', { type: 'hello', version: '1' }],
    ['a null version', { type: 'hello', version: null }],
    ['a spoken version with an unknown field', { type: 'hello', version: 1, resume: true }],
    ['a spoken version with 65 capabilities', { type: 'hello', version: 1, capabilities: Array(65).fill('c') }],
  ])('%s is ERR_BAD_MESSAGE', (_label, hello) => {
    expect(codeOf(() => first(hello))).toBe('ERR_BAD_MESSAGE');
  });

  test('another message first parses as itself (the session then refuses it), not as a version question', () => {
    expect(first({ type: 'ping' })).toEqual({ type: 'ping' });
    expect(codeOf(() => parseFirstClientMessage(Buffer.from('{"type":'), [1]))).toBe('ERR_BAD_MESSAGE');
  });
});

describe('welcome.capabilities', () => {
  test('absent (a hello without capabilities) or a list of names', () => {
    expect(parseServerMessage(json(welcome))).toEqual(welcome);
    expect(parseServerMessage(json({ ...welcome, capabilities: [] }))).toMatchObject({ capabilities: [] });
    const names = Array.from({ length: 64 }, (_, i) => `c${i}/2`);
    expect(parseServerMessage(json({ ...welcome, capabilities: names }))).toMatchObject({ capabilities: names });
  });

  test.each([
    ['a name outside the grammar', ['Resume']],
    ['65 names', Array.from({ length: 65 }, (_, i) => `c${i}`)],
    ['a 65-character name', [`a${'b'.repeat(64)}`]],
  ])('%s is ERR_BAD_MESSAGE, negotiated or not', (_label, capabilities) => {
    const payload = json({ ...welcome, capabilities });
    expect(codeOf(() => parseServerMessage(payload))).toBe('ERR_BAD_MESSAGE');
    expect(codeOf(() => parseServerMessage(payload, { ignoreUnknownFields: true }))).toBe('ERR_BAD_MESSAGE');
  });
});

describe('error.supported', () => {
  const versionError = { type: 'error', code: 'ERR_VERSION', message: 'm', fatal: true };

  test('ERR_VERSION may list the versions the server speaks', () => {
    expect(parseServerMessage(json({ ...versionError, supported: [3, 1] }))).toEqual({
      ...versionError,
      supported: [3, 1],
    });
    expect(parseServerMessage(json(versionError))).toEqual(versionError);
  });

  test.each([
    ['on another code', { ...versionError, code: 'ERR_AUTH', supported: [1] }],
    ['empty', { ...versionError, supported: [] }],
    ['with version 0', { ...versionError, supported: [0] }],
    ['with a fraction', { ...versionError, supported: [1.5] }],
    ['of 17 versions', { ...versionError, supported: Array.from({ length: 17 }, (_, i) => i + 1) }],
  ])('%s is ERR_BAD_MESSAGE', (_label, message) => {
    expect(codeOf(() => parseServerMessage(json(message)))).toBe('ERR_BAD_MESSAGE');
  });

  test('errorEnvelope adds the list to ERR_VERSION only, after the fields of version 1', () => {
    expect(JSON.stringify(errorEnvelope(new VersionError(0, [1]), { fatal: true }))).toBe(
      '{"type":"error","code":"ERR_VERSION","message":"protocol version 0 is not supported; supported: 1",' +
        '"fatal":true,"supported":[1]}',
    );
    expect(JSON.stringify(errorEnvelope(new AuthError(), { fatal: true }))).toBe(
      '{"type":"error","code":"ERR_AUTH","message":"authentication failed: a valid token is required","fatal":true}',
    );
  });

  test('errorEnvelope names the put and cuts the message to 4096 characters', () => {
    const long = new AuthError('x'.repeat(5000));
    const envelope = errorEnvelope(long, { id: 'p-1', fatal: false });
    expect(Object.keys(envelope)).toEqual(['type', 'code', 'message', 'id', 'fatal']);
    expect(envelope.message).toHaveLength(4096);
    expect(parseServerMessage(json(envelope))).toEqual(envelope);
  });
});

describe('server messages read by a client that negotiated', () => {
  const tolerant = { ignoreUnknownFields: true };

  test('by default every object is strict: an unknown field anywhere is ERR_BAD_MESSAGE', () => {
    for (const message of [
      { ...welcome, resumable: true },
      { ...welcome, limits: { ...welcome.limits, maxResumeBytes: 5 } },
      { ...welcome, encryption: { ...welcome.encryption, kem: 'mlkem' } },
      { type: 'pong', nonce: 'n', at: 5 },
    ]) {
      expect(codeOf(() => parseServerMessage(json(message)))).toBe('ERR_BAD_MESSAGE');
    }
  });

  test('negotiated, unknown fields are dropped at every depth, and the known ones kept', () => {
    const extended = {
      ...welcome,
      resumable: true,
      limits: { ...welcome.limits, maxResumeBytes: 5 },
      encryption: { ...welcome.encryption, kem: 'mlkem' },
      capabilities: ['x-a'],
    };
    expect(parseServerMessage(json(extended), tolerant)).toEqual({ ...welcome, capabilities: ['x-a'] });
    expect(parseServerMessage(json({ type: 'pong', nonce: 'n', at: 5 }), tolerant)).toEqual({
      type: 'pong',
      nonce: 'n',
    });
    expect(parseServerMessage(json({ type: 'bye', reason: 'done' }), tolerant)).toEqual({ type: 'bye' });
    expect(
      parseServerMessage(json({ type: 'error', code: 'ERR_X', message: 'm', fatal: false, retryAfterMs: 9 }), tolerant),
    ).toEqual({ type: 'error', code: 'ERR_X', message: 'm', fatal: false });
  });

  test('negotiated, the known fields are as strict as ever, and an unknown type is still refused', () => {
    for (const message of [
      { type: 'notice', text: 'waiting for the operator' },
      { ...welcome, version: '1' },
      { ...welcome, limits: { ...welcome.limits, maxFrameBytes: -1 } },
      { type: 'ready', id: 'a', offset: 1.5, extra: 1 },
      { type: 'error', code: 'ERR_AUTH', message: 'm', fatal: true, supported: [1] },
    ]) {
      expect(codeOf(() => parseServerMessage(json(message), tolerant))).toBe('ERR_BAD_MESSAGE');
    }
  });

  test('a client message is never a server message', () => {
    expect(codeOf(() => parseServerMessage(json({ type: 'hello', version: 1 }), tolerant))).toBe('ERR_BAD_MESSAGE');
  });
});

describe('the negotiation vectors (spec/vectors/frames, docs/PROTOCOL.md §8)', () => {
  const hex = (name: string): string => specWireVector(`frames/${name}.json`).bytes.toString('hex');
  const payload = (name: string): Buffer => specWireVector(`frames/${name}.json`).bytes.subarray(5);
  const message = (name: string): Record<string, unknown> =>
    specWireVector(`frames/${name}.json`).messages[0] as Record<string, unknown>;

  test('hello-version-2 is answered by exactly error-version', () => {
    let thrown: unknown;
    try {
      parseFirstClientMessage(payload('hello-version-2'), SUPPORTED_VERSIONS);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(VersionError);
    expect(encodeControlFrame(errorEnvelope(thrown as VersionError, { fatal: true })).toString('hex')).toBe(
      hex('error-version'),
    );
  });

  test('welcome (the answer to a hello without capabilities) has no capabilities; welcome-capabilities adds them last', () => {
    const plain = message('welcome');
    const negotiated = message('welcome-capabilities');
    expect(plain).not.toHaveProperty('capabilities');
    expect(negotiated).toEqual({ ...plain, capabilities: [] });
    expect(Object.keys(negotiated)).toEqual([...Object.keys(plain), 'capabilities']);
    expect(parseClientMessage(payload('hello'))).toMatchObject({ capabilities: [] });
    expect(parseClientMessage(payload('hello-capabilities'))).toMatchObject({
      capabilities: ['x-example', 'x-example/2'],
    });
  });
});
