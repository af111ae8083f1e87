/**
 * Terminal escape injection (issue 11, fault 6; docs/RELIABILITY.md). What a client sends reaches the operator's
 * terminal: a text file's content, a file name, a dictionary's strings and keys, a hello's agent in the log, the
 * `--ask` question. None of it may act on the terminal (clear the screen, set the title, write the clipboard with
 * OSC 52, a C1 CSI, a bidi override that makes a name show something else, a bare CR that overwrites a line), and
 * no content may pass for a line of the server's own ("saved file … -> …").
 */
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { connect } from '@proj/protocol';
import { makeTempDir, Pty } from '@proj/test-utils';
import { chunks, RawClient, startTestServer, waitFor, type TestServer } from '../helpers';
import { buildServer, MAIN_JS } from './harness';

const ESC = '\u001b';
const BEL = '\u0007';
/** Everything a terminal may act on except newline (and tab, which only moves the cursor right). */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** A text file an attacker would send: every trick of the report, one per line. */
const HOSTILE_TEXT = [
  'an ordinary first line',
  `${ESC}[2J${ESC}[H the screen was cleared`,
  `${ESC}]0;window title set${BEL}`,
  `${ESC}]52;c;ZWNobyBwd25lZA==${BEL} clipboard written`,
  '\u009b2J a C1 CSI',
  'invoice \u202efdp.exe and \u2066isolated\u2069',
  'progress 10%\rDONE: overwritten',
  'a DEL \u007f here',
  'saved file forged-1 "invoice.pdf" from 10.0.0.1:4000 (1.0 KiB) -> items/2026-01-01/000000-x-forged-1-invoice.pdf',
  'client 10.0.0.1:4000 disconnected: 0 dicts, 0 files, 0 B',
  'a windows line\r',
  'a\ttab',
].join('\n');

const HOSTILE_NAME = `report\u202etxt.exe${ESC}]0;t${BEL}\u009b.txt`;

/** Lines of stdout the server may print of its own in this test; every other line must be behind the gutter. */
const SERVER_LINE =
  /^(generated an age identity in |listening on |client 127\.0\.0\.1:\d+ (connected|disconnected: )|saved (dict d-1|file f-1) |\(|stopped$)/;

describe('terminal escape injection', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('a hostile text file, file name and dictionary reach standard output escaped, and no content passes for a server line', async () => {
    t = await startTestServer({ output: 'both' });
    const client = await connect({ port: t.server.port });
    await client.sendDict(
      { [`key${ESC}[31m\u009b`]: `value ${ESC}]52;c;aGk=${BEL} \u202erevo\u2069`, list: ['\u0085', '\u202d'] },
      { id: 'd-1' },
    );
    await client.sendStream(chunks(Buffer.from(HOSTILE_TEXT)), { id: 'f-1', name: HOSTILE_NAME });
    await client.close();
    const server = t;
    await waitFor(() => /disconnected/.test(server.stdout()));
    const out = server.stdout();

    expect(out).not.toMatch(UNSAFE);
    for (const line of out.split('\n').filter(Boolean)) {
      if (!line.startsWith('  | ')) expect(line).toMatch(SERVER_LINE);
    }
    expect(out.match(/^saved /gm)).toHaveLength(2);
    // What was sent is still there to read, escaped.
    expect(out).toContain('  | saved file forged-1 "invoice.pdf"');
    expect(out).toContain('  | \\x1b[2J\\x1b[H the screen was cleared');
    expect(out).toContain('  | \\x1b]52;c;ZWNobyBwd25lZA==\\x07 clipboard written');
    expect(out).toContain('  | \\x9b2J a C1 CSI');
    expect(out).toContain('  | invoice \\u202efdp.exe and \\u2066isolated\\u2069');
    expect(out).toContain('  | progress 10%\\x0dDONE: overwritten');
    expect(out).toContain('  | a windows line\n');
    expect(out).toContain('"report\\u202etxt.exe\\u001b]0;t\\u0007\\u009b.txt"');
    expect(out).toContain('  |   "key\\u001b[31m\\u009b": "value \\u001b]52;c;aGk=\\u0007 \\u202erevo\\u2069",');
  });

  it("a hello's agent reaches the log escaped: still JSON, the same value", async () => {
    const agent = `evil${ESC}]0;t${BEL}\u009b\u202e`;
    const raw = new PassThrough();
    let logged = '';
    raw.on('data', (c: Buffer) => (logged += c.toString()));
    t = await startTestServer({ output: 'file', logLevel: 'info', logDestination: raw });
    const c = await RawClient.welcomed(t.server.port, { agent });
    c.destroy();
    await waitFor(() => logged.includes('"msg":"disconnected"'));
    expect(logged).not.toMatch(UNSAFE);
    const welcome = logged
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; agent?: string })
      .find((l) => l.msg === 'welcome');
    expect(welcome?.agent).toBe(agent);
  });

  describe('the --ask question, in a real terminal', () => {
    beforeAll(() => buildServer(), 180_000);

    it('shows the file name and the dictionary preview escaped', async () => {
      const tmp = await makeTempDir('escape-ask-');
      const args = [
        MAIN_JS,
        '--log-level',
        'warn',
        '--port',
        '0',
        '--data-dir',
        join(tmp.path, 'data'),
        '--output',
        'file',
        '--no-decrypt',
        '--host',
        '127.0.0.1',
        '--ask',
      ];
      const pty = new Pty(process.execPath, args, { cwd: tmp.path, env: { INIT_CWD: '' } });
      try {
        const line = await pty.expect(/listening on 127\.0\.0\.1:\d+/);
        const port = Number(/:(\d+)$/.exec(line)?.[1]);
        const client = await connect({ port });
        const dict = client.sendDict({ note: `\u202e${ESC}]52;c;aGk=${BEL}\u009b` }, { id: 'ask-1' });
        await pty.expect('Accept dictionary (json');
        await pty.expect('{"note":"\\u202e\\u001b]52;c;aGk=\\u0007\\u009b"}');
        pty.write('n\r');
        await expect(dict).rejects.toMatchObject({ code: 'ERR_REJECTED' });
        const file = client.sendStream(chunks(Buffer.from('x')), { id: 'ask-2', name: HOSTILE_NAME });
        await pty.expect('Accept file "report\\u202etxt.exe\\u001b]0;t\\u0007\\u009b.txt"');
        pty.write('n\r');
        await expect(file).rejects.toMatchObject({ code: 'ERR_REJECTED' });
        await client.close();
        expect(pty.screen).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
      } finally {
        await pty.stop();
        await tmp.remove();
      }
    }, 60_000);
  });
});
