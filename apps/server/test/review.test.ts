/** Regression tests for the fixes of a review (handshake order, cancel for another id, EPIPE, log level). */
import { spawnSync } from 'node:child_process';
import { sha256Hex } from '@proj/test-utils';
import { join, resolve } from 'node:path';
import { defaultLogLevel } from '../src/commands/serve';
import { RawClient, startTestServer, type TestServer } from './helpers';

const MAIN = join(resolve(__dirname, '..'), 'dist', 'main.js');

describe('session order rules (docs/PROTOCOL.md §4)', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ output: 'file' });
  });
  afterEach(async () => {
    await t.stop();
  });

  it('a ping before hello is an unexpected message, fatal, not a pong', async () => {
    const c = await RawClient.connect(t.server.port);
    c.control({ type: 'ping', nonce: 'early' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_UNEXPECTED_MESSAGE', fatal: true });
    c.destroy();
  });

  it('a ping after the welcome is still answered', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'ping', nonce: 'late' });
    expect(await c.next()).toEqual({ type: 'pong', nonce: 'late' });
    c.destroy();
  });

  it('a cancel for another id during a file put is ignored, and the put completes', async () => {
    const c = await RawClient.welcomed(t.server.port);
    const body = Buffer.from('hello, file\n');
    c.control({ type: 'put_file', id: 'f-1', name: 'a.txt', size: body.length });
    expect(await c.next()).toEqual({ type: 'ready', id: 'f-1', offset: 0 });
    c.control({ type: 'cancel', id: 'someone-else' });
    c.data(body);
    c.control({ type: 'file_end', id: 'f-1', bytes: body.length, sha256: sha256Hex(body) });
    expect(await c.next()).toMatchObject({ type: 'receipt', id: 'f-1', bytes: body.length, duplicate: false });
    c.destroy();
  });

  it('a cancel for another id while a failed put is discarded is ignored', async () => {
    const c = await RawClient.welcomed(t.server.port);
    c.control({ type: 'put_file', id: 'f-2', name: 'b.txt', size: 4 });
    expect(await c.next()).toEqual({ type: 'ready', id: 'f-2', offset: 0 });
    c.data(Buffer.from('too many bytes'));
    expect(await c.next()).toMatchObject({ type: 'error', code: 'ERR_SIZE_MISMATCH', id: 'f-2', fatal: false });
    c.control({ type: 'cancel', id: 'someone-else' });
    c.control({ type: 'file_end', id: 'f-2', bytes: 14, sha256: sha256Hex(Buffer.from('too many bytes')) });
    c.control({ type: 'ping', nonce: 'alive' });
    expect(await c.next()).toEqual({ type: 'pong', nonce: 'alive' });
    c.destroy();
  });
});

describe('command line', () => {
  it('`serve --help` into a reader that goes away exits 0 without an EPIPE crash', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${MAIN}" serve --help | true`], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|Error/);
    expect(r.status).toBe(0);
  });

  it('logs warnings only when stderr is a terminal, info otherwise', () => {
    expect(defaultLogLevel(true)).toBe('warn');
    expect(defaultLogLevel(false)).toBe('info');
  });
});
