/**
 * The real program in a real pseudo-terminal (util-linux `script`), typed at like a person would, against a real
 * server in this process. Assertions are on what the server stored.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decryptFile, readIdentityFile } from '@proj/crypto';
import { decodeDict } from '@proj/protocol/dict';
import { listFiles, makeTempDir, Pty, sha256File, sha256Hex } from '@proj/test-utils';
import { CLIENT_DIR, MAIN, startTestServer, type TestServer } from './helpers/harness';

const ENTER = '\r';
const DOWN = '\u001b[B';
const UP = '\u001b[A';
const CTRL_C = '\u0003';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
  await server.removeDir();
});

/** The client at a terminal; with `--port` unless `withPort` is false (then the port is asked). */
function client(args: string[] = [], withPort = true): Pty {
  return new Pty(process.execPath, [MAIN, ...(withPort ? ['--port', String(server.port)] : []), ...args], {
    cwd: CLIENT_DIR,
    env: {
      EDITOR: '',
      VISUAL: '',
      PROJ_HOST: '',
      PROJ_PORT: '',
      PROJ_CLIENT_SCRYPT_WORK_FACTOR: '10',
      INIT_CWD: '',
    },
  });
}

/** Waits for a prompt, then moves down `downs` times and presses Enter. */
async function choose(pty: Pty, prompt: string | RegExp, downs = 0): Promise<void> {
  await pty.expect(prompt);
  for (let i = 0; i < downs; i++) pty.write(DOWN);
  pty.write(ENTER);
}

/** Waits for a prompt, then types `text` and Enter. */
async function type(pty: Pty, prompt: string | RegExp, text: string): Promise<void> {
  await pty.expect(prompt);
  pty.write(text + ENTER);
}

async function storedItems(): Promise<string[]> {
  return (await listFiles(join(server.dataDir, 'items'))).map((f) => join(server.dataDir, 'items', f));
}

it('builds a nested dictionary, sends it as XML, creates and encrypts a text file, sends it, disconnects', async () => {
  const pty = client();
  try {
    await choose(pty, 'Server host'); // the default, 127.0.0.1; the port came with --port and is not asked
    await pty.expect(`Connected to 127.0.0.1:${server.port}`);

    await choose(pty, 'What would you like to do?', 0); // Create a dictionary
    await choose(pty, 'The dictionary (0 entries)', 0); // Add an entry
    await type(pty, 'Key of the new entry', 'name');
    await choose(pty, 'Type of the value of name', 0); // text
    await type(pty, 'Text for name', 'Ada Lovelace');
    await choose(pty, 'The dictionary (1 entry)', 0); // Add an entry
    await type(pty, 'Key of the new entry', 'address');
    await choose(pty, 'Type of the value of address', 5); // dictionary
    await choose(pty, 'Address (0 entries)', 0); // Add an entry (nested)
    await type(pty, 'Key of the new entry in address', 'zip');
    await choose(pty, 'Type of the value of address.zip', 1); // number
    await type(pty, 'Number for address.zip', '12345');
    await choose(pty, 'Address (1 entry)', 4); // Done with address
    await choose(pty, 'The dictionary (2 entries)', 4); // Review
    await pty.expect('"zip": 12345');
    await choose(pty, 'The dictionary (2 entries)', 5); // Done: choose the format and send
    await choose(pty, 'Send it in which format?', 1); // from JSON (initial) down to XML
    await pty.expect('Receipt');
    await pty.expect('size and checksum match what was sent');

    await choose(pty, 'What would you like to do?', 1); // Create a text file
    await choose(pty, 'Where does the text come from?', 0); // Type the text here
    await type(pty, 'Name of the file', 'hello.txt');
    await type(pty, '1 │', 'Hello,');
    await type(pty, '2 │', 'terminal.');
    await type(pty, '3 │', '.');
    await pty.expect('hello.txt: 2 lines, 17 bytes'); // shown back for review
    await choose(pty, 'Send hello.txt?', 0); // Send it
    await choose(pty, 'Encrypt the file?', 0); // to the server's key (the default)
    await pty.expect('Receipt');
    await pty.expect("to the server's key");

    await choose(pty, 'What would you like to do?', 3); // Disconnect and quit
    await pty.expect('Disconnected. Goodbye.');
    expect(await pty.exited).toBe(0);
  } finally {
    await pty.stop();
  }

  const items = await storedItems();
  expect(items).toHaveLength(2);
  const xml = items.find((p) => p.endsWith('.xml')) as string;
  expect(decodeDict(await readFile(xml), 'xml')).toEqual({ name: 'Ada Lovelace', address: { zip: 12345 } });
  const age = items.find((p) => p.endsWith('hello.txt.age')) as string;
  const out = join(server.dataDir, '..', `${server.serverId}-hello.out`);
  await decryptFile(age, out, { identities: await readIdentityFile(join(server.dataDir, 'identity.txt')) });
  try {
    expect(await readFile(out, 'utf8')).toBe('Hello,\nterminal.\n');
  } finally {
    await rm(out, { force: true });
  }
});

it('answers bad input with a message and a second chance, never a crash', async () => {
  const tmp = await makeTempDir();
  const pty = client([], false);
  try {
    await choose(pty, 'Server host');
    await type(pty, 'Server port', '\u0015x'); // Ctrl-U clears the default, then a port that is not one
    await pty.expect('must be a port number');
    pty.write(`\u007f${server.port}${ENTER}`); // the question stayed, with the refused answer still typed
    await pty.expect('Connected to');

    await choose(pty, 'What would you like to do?', 0);
    await choose(pty, 'The dictionary (0 entries)', 0);
    await type(pty, 'Key of the new entry', ' '); // a blank key goes back to the menu
    await choose(pty, 'The dictionary (0 entries)', 0);
    await type(pty, 'Key of the new entry', 'n');
    await choose(pty, 'Type of the value of n', 1); // number
    await type(pty, 'Number for n', 'twelve');
    await pty.expect('"twelve" is not a number');
    pty.write(`${'\u007f'.repeat(6)}12\r`);
    await pty.expect('Added "n": 12');
    await choose(pty, 'The dictionary (1 entry)', 0);
    await type(pty, 'Key of the new entry', 'n'); // duplicate key
    await pty.expect('The key "n" is already in this dictionary');
    pty.write('\u007fm\r'); // the error shows under the question, which stays: Backspace, then another key
    await choose(pty, 'Type of the value of m', 4); // null
    await choose(pty, 'The dictionary (2 entries)', 5); // Done
    await pty.expect('Send it in which format?');
    pty.write(UP + ENTER); // from JSON (initial) up to binary
    await pty.expect('size and checksum match');

    await choose(pty, 'What would you like to do?', 1);
    await choose(pty, 'Where does the text come from?', 1); // the editor is disabled: enquirer skips to "disk"
    const missing = join(tmp.path, 'missing.txt');
    await type(pty, 'Path of the file', missing);
    await pty.expect('There is no file at');
    pty.write('\u007f'.repeat(missing.length) + join(CLIENT_DIR, 'package.json') + ENTER);
    await choose(pty, 'Encrypt the file?', 2); // Do not encrypt
    await pty.expect('size and checksum match');

    await choose(pty, 'What would you like to do?', 3);
    expect(await pty.exited).toBe(0);
    // A refused answer never got the tick of an accepted one.
    const screen = pty.screen;
    expect(screen).not.toMatch(/✔ Server port.* · x/);
    expect(screen).not.toMatch(/✔ Number for n · twelve/);
    expect(screen).not.toMatch(/✔ Path of the file.*missing/);
    expect(screen.match(/✔ Key of the new entry in the dictionary .* · n\b/g)).toHaveLength(1);
  } finally {
    await pty.stop();
    await tmp.remove();
  }
  const items = await storedItems();
  expect(items).toHaveLength(2);
  const pb = items.find((p) => p.endsWith('.pb')) as string;
  expect(decodeDict(await readFile(pb), 'protobuf')).toEqual({ n: 12, m: null });
  const pkg = items.find((p) => p.endsWith('package.json')) as string;
  expect(await sha256File(pkg)).toBe(await sha256File(join(CLIENT_DIR, 'package.json')));
});

it('says so when nobody listens, offers to retry, and leaves with 130 on Ctrl-C', async () => {
  const pty = new Pty(process.execPath, [MAIN, '--port', '1'], {
    cwd: CLIENT_DIR,
    env: { PROJ_HOST: '', PROJ_PORT: '', INIT_CWD: '' },
  });
  try {
    await choose(pty, 'Server host'); // --port 1 is not asked again, until the first attempt fails
    await pty.expect('Nobody is listening at 127.0.0.1:1');
    await choose(pty, 'Not connected. What now?', 1); // Change the host or port
    await choose(pty, 'Server host');
    await type(pty, 'Server port', `\u0015${server.port}`);
    await pty.expect('Connected to');
    await pty.expect('What would you like to do?');
    pty.write(CTRL_C);
    await pty.expect('Interrupted: connection closed');
    expect(await pty.exited).toBe(130);
  } finally {
    await pty.stop();
  }
});

it('draws a progress bar with speed and time left when standard error is a terminal', async () => {
  const tmp = await makeTempDir();
  const big = join(tmp.path, 'big.bin');
  const content = Buffer.alloc(8 * 1024 * 1024, 7);
  await writeFile(big, content);
  const pty = new Pty(process.execPath, [MAIN, 'send-file', '--port', String(server.port), big], { cwd: CLIENT_DIR });
  try {
    await pty.expect(/big\.bin \[[#-]+\]\s+\d+%\s+[\d.]+ \w+ \/ 8\.0 MiB\s+[\d.]+ \w+\/s\s+[\d:-]+ left/);
    await pty.expect(/sent \S+big\.bin -> items\//);
    expect(await pty.exited).toBe(0);
  } finally {
    await pty.stop();
    await tmp.remove();
  }
  const [stored] = await storedItems();
  expect(await sha256File(stored as string)).toBe(sha256Hex(content));
});
