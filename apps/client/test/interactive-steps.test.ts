/**
 * The interactive client's ways back and its confirmations, in the real program in a real pseudo-terminal
 * against a real server in this process (issue 17, item 8): Esc and empty answers step back, the dictionary
 * draft survives Esc and is only lost after a question, discard / empty file / leaving are confirmed, "Encrypt?"
 * has a way back, pasted JSON, typed text reviewed and edited before sending, a failed connection said in words,
 * and no colour codes under NO_COLOR. Assertions are on what the server stored and on the exit code.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeDict } from '@proj/protocol/dict';
import { listFiles, makeTempDir, Pty } from '@proj/test-utils';
import { CLIENT_DIR, MAIN, startTestServer, type TestServer } from './helpers/harness';

const ENTER = '\r';
const DOWN = '\u001b[B';
const ESC = '\u001b';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
  await server.removeDir();
});

function client(env: NodeJS.ProcessEnv = {}, port = server.port): Pty {
  return new Pty(process.execPath, [MAIN, '--port', String(port)], {
    cwd: CLIENT_DIR,
    env: { EDITOR: '', VISUAL: '', PROJ_HOST: '', PROJ_PORT: '', PROJ_CLIENT_SCRYPT_WORK_FACTOR: '10', ...env },
  });
}

async function choose(pty: Pty, prompt: string | RegExp, downs = 0): Promise<void> {
  await pty.expect(prompt);
  pty.write(DOWN.repeat(downs) + ENTER);
}

async function type(pty: Pty, prompt: string | RegExp, text: string): Promise<void> {
  await pty.expect(prompt);
  pty.write(text + ENTER);
}

/** Waits for a prompt and presses Esc alone (readline tells a lone Esc from a key sequence after a pause). */
async function esc(pty: Pty, prompt: string | RegExp): Promise<void> {
  await pty.expect(prompt);
  pty.write(ESC);
}

/** Waits for a yes/no question and presses y, which answers at once (no Enter: it would reach the next question). */
async function yes(pty: Pty, prompt: string | RegExp): Promise<void> {
  await pty.expect(prompt);
  pty.write('y');
}

/** The port is given on the command line (`--port`), so only the host is asked (docs/CLIENT.md §2). */
async function connect(pty: Pty): Promise<void> {
  await choose(pty, 'Server host');
  await pty.expect('Connected to');
}

async function storedItems(): Promise<string[]> {
  return (await listFiles(join(server.dataDir, 'items'))).map((f) => join(server.dataDir, 'items', f));
}

// Menu positions (enquirer skips disabled choices when moving down).
const MENU = { dict: 0, file: 1, quit: 3 };
const ROOT_EMPTY = { add: 0, paste: 1, review: 2, done: 3, back: 4, discard: 5 }; // edit, remove disabled
const ROOT = { add: 0, paste: 1, edit: 2, remove: 3, review: 4, done: 5, back: 6, discard: 7 };

it('steps back with Esc and empty answers, keeps the draft at the main menu, and asks before losing it', async () => {
  const pty = client();
  try {
    await connect(pty);
    await choose(pty, 'What would you like to do?', MENU.dict);
    await choose(pty, 'The dictionary (0 entries)', ROOT_EMPTY.add);
    await type(pty, 'Key of the new entry', ''); // empty: back to the menu
    await choose(pty, 'The dictionary (0 entries)', ROOT_EMPTY.add);
    await esc(pty, 'Key of the new entry'); // Esc: back to the menu
    await choose(pty, 'The dictionary (0 entries)', ROOT_EMPTY.add);
    await type(pty, 'Key of the new entry', 'age');
    await esc(pty, 'Type of the value of age'); // back to the key, which is offered again
    await choose(pty, 'Key of the new entry');
    await choose(pty, 'Type of the value of age', 1); // number
    await esc(pty, 'Number for age'); // back to the kind
    await choose(pty, 'Type of the value of age', 1);
    await type(pty, 'Number for age', '36');
    await esc(pty, 'The dictionary (1 entry)'); // back to the main menu
    await pty.expect('The dictionary draft is kept');

    // Esc at the main menu with a draft: a question, and No (the default) stays.
    await esc(pty, 'What would you like to do?');
    await choose(pty, 'Quit and lose the dictionary draft (1 entry)?');
    await choose(pty, 'What would you like to do?', MENU.dict); // Continue the dictionary (1 entry)
    await choose(pty, 'The dictionary (1 entry)', ROOT.done);
    await esc(pty, 'Send it in which format?'); // back to the dictionary
    await choose(pty, 'The dictionary (1 entry)', ROOT.done);
    await choose(pty, 'Send it in which format?'); // JSON
    await pty.expect('size and checksum match');

    // The file-name question: empty goes back to the source, Esc there back to the main menu.
    await choose(pty, 'What would you like to do?', MENU.file);
    await choose(pty, 'Where does the text come from?', 0);
    await type(pty, 'Name of the file', '');
    await esc(pty, 'Where does the text come from?');
    await esc(pty, 'What would you like to do?'); // no draft now: leaves at once
    await pty.expect('Disconnected. Goodbye.');
    expect(await pty.exited).toBe(0);
  } finally {
    await pty.stop();
  }
  const items = await storedItems();
  expect(items).toHaveLength(1);
  expect(decodeDict(await readFile(items[0] as string), 'json')).toEqual({ age: 36 });
});

it('confirms discarding a dictionary, quitting with a draft and sending an empty file; Encrypt? has a way back', async () => {
  const pty = client();
  try {
    await connect(pty);
    await choose(pty, 'What would you like to do?', MENU.dict);
    await choose(pty, 'The dictionary (0 entries)', ROOT_EMPTY.add);
    await type(pty, 'Key of the new entry', 'k');
    await choose(pty, 'Type of the value of k', 4); // null
    await choose(pty, 'The dictionary (1 entry)', ROOT.discard);
    await choose(pty, 'Discard the dictionary and its 1 entry?'); // No (the default)
    await pty.expect('(y/N) · no'); // the answer in words, not `false`
    await pty.expect('Kept.');
    await choose(pty, 'The dictionary (1 entry)', ROOT.discard);
    await yes(pty, 'Discard the dictionary and its 1 entry?');
    await pty.expect('Dictionary discarded.');

    await choose(pty, 'What would you like to do?', MENU.file);
    await choose(pty, 'Where does the text come from?', 0);
    await type(pty, 'Name of the file', 'empty.txt');
    await type(pty, '1 │', '.'); // no lines
    await pty.expect('empty.txt is empty (0 bytes).');
    await choose(pty, 'Send empty.txt?', 0); // Send it
    await choose(pty, 'empty.txt is empty (0 bytes). Send an empty file?'); // No (the default)
    await choose(pty, 'Send empty.txt?', 0);
    await yes(pty, 'Send an empty file?');
    await choose(pty, 'Encrypt the file?', 3); // Back: do not send yet
    await choose(pty, 'Send empty.txt?', 0); // back at the review
    await yes(pty, 'Send an empty file?');
    await esc(pty, 'Encrypt the file?'); // Esc: back as well
    await choose(pty, 'Send empty.txt?', 0);
    await yes(pty, 'Send an empty file?');
    await choose(pty, 'Encrypt the file?', 2); // Do not encrypt
    await pty.expect('size and checksum match');

    // Leaving with a draft that has entries asks first; yes leaves.
    await choose(pty, 'What would you like to do?', MENU.dict);
    await choose(pty, 'The dictionary (0 entries)', ROOT_EMPTY.add);
    await type(pty, 'Key of the new entry', 'unsent');
    await choose(pty, 'Type of the value of unsent', 2); // true
    await choose(pty, 'The dictionary (1 entry)', ROOT.back);
    await choose(pty, 'What would you like to do?', MENU.quit);
    await yes(pty, 'Quit and lose the dictionary draft (1 entry)?');
    await pty.expect('Disconnected. Goodbye.');
    expect(await pty.exited).toBe(0);
  } finally {
    await pty.stop();
  }
  const items = await storedItems();
  expect(items).toHaveLength(1);
  expect(items[0]).toMatch(/empty\.txt$/);
  expect(await readFile(items[0] as string)).toHaveLength(0);
});

it('says what happens when the person quits after a failed connection: exit status 3', async () => {
  const pty = client({}, 1);
  try {
    await choose(pty, 'Server host');
    await pty.expect('Nobody is listening at 127.0.0.1:1');
    await choose(pty, 'Not connected. What now?', 0); // Try 127.0.0.1:1 again
    await pty.expect('Nobody is listening at 127.0.0.1:1');
    await choose(pty, 'Not connected. What now?', 2); // Quit
    await pty.expect('Not connected: quitting with exit status 3. Nothing was sent.');
    expect(await pty.exited).toBe(3);
  } finally {
    await pty.stop();
  }
});

it('takes a pasted dictionary and a JSON value in one answer, refusing what the protocol refuses', async () => {
  const pty = client();
  try {
    await connect(pty);
    await choose(pty, 'What would you like to do?', MENU.dict);
    await choose(pty, 'The dictionary (0 entries)', ROOT_EMPTY.paste);
    await pty.expect('Paste or type the dictionary as JSON');
    pty.write('[1, 2]\r.\r'); // not an object: the protocol's own code and message
    await pty.expect(/a dictionary must be an object at the root, found an array \(ERR_DICT_INVALID\)/);
    await pty.expect('1 │');
    pty.write('{\r  "name": "Ada",\r  "langs": ["en", "fr"]\r}\r.\r'); // several lines in one paste
    await pty.expect('Pasted 2 entries.');
    await choose(pty, 'The dictionary (2 entries)', ROOT.add);
    await type(pty, 'Key of the new entry', 'scores');
    await choose(pty, 'Type of the value of scores', 7); // JSON
    await type(pty, 'JSON for scores', '[1, 2');
    await pty.expect(/json: .*\(ERR_DECODE\)/); // told in place; the question stays
    pty.write(`${'\u007f'.repeat(5)}[1, 2.5, {"x": null}]${ENTER}`);
    await pty.expect('Added "scores": [3 items]');
    await choose(pty, 'The dictionary (3 entries)', ROOT.done);
    await choose(pty, 'Send it in which format?', 1); // XML
    await pty.expect('size and checksum match');
    await choose(pty, 'What would you like to do?', MENU.quit);
    expect(await pty.exited).toBe(0);
  } finally {
    await pty.stop();
  }
  const items = await storedItems();
  expect(items).toHaveLength(1);
  expect(decodeDict(await readFile(items[0] as string), 'xml')).toEqual({
    name: 'Ada',
    langs: ['en', 'fr'],
    scores: [1, 2.5, { x: null }],
  });
});

it('shows typed text back, edits it in $EDITOR and lets it be typed again before sending', async () => {
  const tmp = await makeTempDir();
  const editor = join(tmp.path, 'editor.sh');
  // An "editor" that replaces the word draft with final in the file it is given, as a person would.
  await writeFile(editor, '#!/bin/sh\nsed -i "s/draft/final/" "$1"\n', { mode: 0o755 });
  const pty = client({ EDITOR: editor });
  try {
    await connect(pty);
    await choose(pty, 'What would you like to do?', MENU.file);
    await choose(pty, 'Where does the text come from?', 0); // Type the text here
    await type(pty, 'Name of the file', 'notes.txt');
    await type(pty, '1 │', 'a first try');
    await type(pty, '2 │', '.');
    await pty.expect('notes.txt: 1 line, 12 bytes');
    await pty.expect('│ a first try');
    await choose(pty, 'Send notes.txt?', 2); // Type it again
    await pty.expect('1 │');
    pty.write('the draft text\r\u0001\tcontrol\r.\r'); // a paste: Ctrl-A is not text and is dropped, a tab is
    await pty.expect('notes.txt: 2 lines');
    await pty.expect('│ \tcontrol');
    await choose(pty, 'Send notes.txt?', 1); // Edit it in my editor
    await pty.expect('notes.txt: 2 lines');
    await pty.expect('│ the final text');
    await choose(pty, 'Send notes.txt?', 0);
    await choose(pty, 'Encrypt the file?', 2); // Do not encrypt
    await pty.expect('size and checksum match');
    await choose(pty, 'What would you like to do?', MENU.quit);
    expect(await pty.exited).toBe(0);
  } finally {
    await pty.stop();
    await tmp.remove();
  }
  const items = await storedItems();
  expect(items).toHaveLength(1);
  expect(await readFile(items[0] as string, 'utf8')).toBe('the final text\n\tcontrol\n');
});

it('while typing lines: Esc before any text goes back, Ctrl-C leaves with 130 and the draft is said lost', async () => {
  const pty = client();
  try {
    await connect(pty);
    await choose(pty, 'What would you like to do?', MENU.dict);
    await choose(pty, 'The dictionary (0 entries)', ROOT_EMPTY.add);
    await type(pty, 'Key of the new entry', 'kept');
    await choose(pty, 'Type of the value of kept', 2); // true
    await choose(pty, 'The dictionary (1 entry)', ROOT.paste);
    await esc(pty, '1 │'); // nothing typed yet: back to the menu, the entry untouched
    await choose(pty, 'The dictionary (1 entry)', ROOT.back);
    await choose(pty, 'What would you like to do?', MENU.file);
    await choose(pty, 'Where does the text come from?', 0);
    await type(pty, 'Name of the file', 'never.txt');
    await pty.expect('1 │');
    pty.write('some text');
    pty.write('\u0003');
    await pty.expect('Interrupted: connection closed. The dictionary draft was not sent. Goodbye.');
    expect(await pty.exited).toBe(130);
  } finally {
    await pty.stop();
  }
  expect(await storedItems()).toEqual([]);
});

// Select Graphic Rendition: the escape sequences that colour and embolden text.
const SGR = /\u001b\[[0-9;]*m/;

async function rawSession(env: NodeJS.ProcessEnv): Promise<string> {
  const pty = client(env);
  let raw = '';
  pty.child.stdout.on('data', (text: string) => {
    raw += text;
  });
  try {
    await connect(pty);
    await choose(pty, 'What would you like to do?', MENU.dict);
    await choose(pty, 'The dictionary (0 entries)', ROOT_EMPTY.add);
    await type(pty, 'Key of the new entry', 'n');
    await choose(pty, 'Type of the value of n', 1);
    await type(pty, 'Number for n', 'abc'); // a warning, drawn by enquirer
    await pty.expect('"abc" is not a number');
    pty.write(`${'\u007f'.repeat(3)}1${ENTER}`);
    await esc(pty, 'The dictionary (1 entry)');
    await esc(pty, 'What would you like to do?');
    await yes(pty, 'Quit and lose the dictionary draft');
    expect(await pty.exited).toBe(0);
  } finally {
    await pty.stop();
  }
  return raw;
}

it('draws no colour codes under NO_COLOR, and does without it', async () => {
  // FORCE_COLOR is cleared: the Pty helper sets it to 0, which also turns colour off.
  const plain = await rawSession({ NO_COLOR: '1', FORCE_COLOR: '' });
  expect(plain).toContain('Number for n');
  expect(plain).not.toMatch(SGR);
  const coloured = await rawSession({ NO_COLOR: '', FORCE_COLOR: '' });
  expect(coloured).toMatch(SGR);
});
