#!/usr/bin/env node
/**
 * Moves golden vectors written in the old layout into spec/vectors in the self-describing format of
 * spec/README.md ("Vector files"), and deletes the old files it converted:
 *
 *   old <from>/frames/<name>.hex + <name>.json ({kind, message|payloadHex})  ->  <to>/frames/<name>.json
 *   old <from>/session/<name>.hex + <name>.json ([frame, ...])                ->  <to>/sessions/<name>.json
 *   old <from>/dict/<name>.value.json, .json, .xml, .pb (+ .pb.hex)           ->  <to>/dict/ + <name>.vector.json
 *
 * Usage: node spec/tools/reshape-vectors.mjs <from> [<to>]      (<to> defaults to spec/vectors)
 * e.g.   node spec/tools/reshape-vectors.mjs packages/protocol/test/vectors
 *
 * A vector this script has no description for gets "TODO" as its description and section: the test suite of
 * @proj/protocol refuses those, so fill them in by hand (a file already in the new format is never touched, and a
 * description already written in <to> is kept). Node only, no dependencies.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What each vector known today is, and the section of docs/PROTOCOL.md it illustrates. */
const DESCRIPTIONS = {
  'frames/bye': [
    '3',
    'bye, either direction: the client is done; the server answers with the same bytes, then closes.',
  ],
  'frames/cancel': ['3', 'cancel: the client abandons the file put f-0002. Never answered.'],
  'frames/data-dict': [
    '2',
    'A data frame carrying the body of dictionary put d-0001: the 51 bytes of the JSON dictionary ' +
      '{"name":"Ada","tags":["x",1,true,null],"nested":{}}.',
  ],
  'frames/data-empty': ['2', 'A data frame of zero bytes: allowed, it carries nothing.'],
  'frames/data-file': ['2', 'A data frame carrying the 13 bytes of a file: "hello, world" and a line feed.'],
  'frames/dict-receipt': [
    '3',
    'The receipt of dictionary put d-0001: the 51 JSON bytes of data-dict are stored. path and receivedAt are ' +
      "the server's own.",
  ],
  'frames/error': ['3', 'A non-fatal error ending put d-0002 with ERR_DICT_TOO_DEEP (§7); the session goes on.'],
  'frames/file-end': ['3', 'file_end of file put f-0001: 13 bytes sent, and the SHA-256 of the whole file.'],
  'frames/file-receipt': [
    '3',
    'The receipt of file put f-0001: a file receipt has no format member; encrypted is false for plain bytes.',
  ],
  'frames/hello-token': [
    '3',
    'A hello with a token, and a capability the server does not know (ignored, §4 Handshake); no agent.',
  ],
  'frames/hello': ['3', 'The hello that opens a session: version 1, no capabilities, an agent.'],
  'frames/ping': ['3', 'A ping with a nonce.'],
  'frames/pong': ['3', 'The pong answering ping.json: the same nonce.'],
  'frames/put-dict': ['3', 'put_dict d-0001: a JSON dictionary of exactly 51 bytes follows as data frames.'],
  'frames/put-file': ['3', 'put_file f-0001 with every optional field: size 13, offset 0, encryption none.'],
  'frames/ready': ['3', 'ready for file put f-0001: send data from offset 0 (always 0 in version 1).'],
  'frames/welcome': [
    '3',
    'A welcome with the default limits (§6), the three formats, both encryptions and an age recipient.',
  ],
  'sessions/client-to-server': [
    '4',
    'A whole session as a client writes it, without waiting for any answer: hello; a dictionary put (put_dict, ' +
      'one data frame); a file put (put_file, two data frames, file_end); bye. The answers are ' +
      'server-to-client.json.',
  ],
  'sessions/server-to-client': [
    '4',
    "The server's answers to client-to-server.json, in order: welcome, the dictionary's receipt, ready, the " +
      "file's receipt, bye. A real server's agent, serverId, limits, encryption, path and receivedAt are its own; " +
      'every other member must be as here.',
  ],
  'dict/sample': [
    '5',
    'One dictionary that touches every rule of §5 (key order, negative zero, null, empty containers, keys that ' +
      'are not XML names, a __proto__ key, whitespace, control characters) and its encoding in each format.',
  ],
};

/** Directions by the message types a frame list holds: bye alone goes both ways. */
const SERVER_TYPES = new Set(['welcome', 'ready', 'receipt', 'error', 'pong']);
const CLIENT_TYPES = new Set(['hello', 'put_dict', 'put_file', 'file_end', 'cancel', 'ping']);

function describe(key, to) {
  const target = join(to, `${key}${key.startsWith('dict/') ? '.vector' : ''}.json`);
  if (existsSync(target)) {
    const kept = JSON.parse(readFileSync(target, 'utf8'));
    if (kept.vector !== undefined) return [kept.section, kept.description];
  }
  return DESCRIPTIONS[key] ?? ['TODO', 'TODO'];
}

const readHex = (path) => readFileSync(path, 'utf8').replace(/\s+/g, '').toLowerCase();
const write = (path, value) => writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);

function direction(frames) {
  if (frames.some((f) => f.kind === 1 && SERVER_TYPES.has(f.message.type))) return 'server-to-client';
  const client = frames.some((f) => f.kind === 2 || CLIENT_TYPES.has(f.message.type));
  return client ? 'client-to-server' : 'both';
}

/** The hex of each frame in `hex`, in order (the 5-byte header says where each ends). */
function splitFrames(hex) {
  const out = [];
  for (let at = 0; at < hex.length; ) {
    const length = Number.parseInt(hex.slice(at, at + 8), 16);
    const end = at + 10 + 2 * length;
    out.push(hex.slice(at, end));
    at = end;
  }
  return out;
}

/** frames/ and session/ (or sessions/): old .hex + .json pairs. */
function reshapeWire(fromDir, toDir, group) {
  if (!existsSync(fromDir)) return [];
  mkdirSync(toDir, { recursive: true });
  const done = [];
  for (const file of readdirSync(fromDir).filter((f) => f.endsWith('.hex'))) {
    const name = file.slice(0, -4);
    const oldJson = join(fromDir, `${name}.json`);
    const old = JSON.parse(readFileSync(oldJson, 'utf8'));
    const frames = Array.isArray(old) ? old : [old];
    const hex = readHex(join(fromDir, file));
    const [section, description] = describe(`${group}/${name}`, toDir.replace(/[/\\][^/\\]+$/, ''));
    write(join(toDir, `${name}.json`), {
      vector: 'wire',
      description,
      section,
      direction: direction(frames),
      hex: group === 'sessions' ? splitFrames(hex) : hex,
      frames,
    });
    rmSync(join(fromDir, file));
    if (resolve(oldJson) !== resolve(join(toDir, `${name}.json`))) rmSync(oldJson);
    done.push(`${group}/${name}.json`);
  }
  return done;
}

const FORMAT_FILES = [
  ['json', '.json'],
  ['xml', '.xml'],
  ['protobuf', '.pb'],
];

/** dict/: a value and its encodings; the descriptor gives each file's size and SHA-256. */
function reshapeDict(fromDir, toDir, to) {
  if (!existsSync(fromDir)) return [];
  mkdirSync(toDir, { recursive: true });
  const done = [];
  for (const file of readdirSync(fromDir).filter((f) => f.endsWith('.value.json'))) {
    const name = file.slice(0, -'.value.json'.length);
    const move = (base) => {
      if (resolve(fromDir) !== resolve(toDir)) renameSync(join(fromDir, base), join(toDir, base));
    };
    const encodings = {};
    for (const [format, ext] of FORMAT_FILES) {
      const base = `${name}${ext}`;
      if (!existsSync(join(fromDir, base))) continue;
      move(base);
      const bytes = readFileSync(join(toDir, base));
      encodings[format] = { file: base, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }
    move(file);
    rmSync(join(fromDir, `${name}.pb.hex`), { force: true });
    const [section, description] = describe(`dict/${name}`, to);
    write(join(toDir, `${name}.vector.json`), {
      vector: 'dict-encodings',
      description,
      section,
      value: file,
      encodings,
    });
    done.push(`dict/${name}.vector.json`);
  }
  if (existsSync(join(fromDir, '.gitattributes')) && resolve(fromDir) !== resolve(toDir)) {
    renameSync(join(fromDir, '.gitattributes'), join(toDir, '.gitattributes'));
  }
  return done;
}

const [fromArg, toArg = 'spec/vectors'] = process.argv.slice(2);
if (fromArg === undefined) {
  process.stderr.write('usage: node spec/tools/reshape-vectors.mjs <from> [<to>]\n');
  process.exit(2);
}
const from = resolve(fromArg);
const to = resolve(toArg);
const done = [
  ...reshapeWire(join(from, 'frames'), join(to, 'frames'), 'frames'),
  ...reshapeWire(
    join(from, existsSync(join(from, 'session')) ? 'session' : 'sessions'),
    join(to, 'sessions'),
    'sessions',
  ),
  ...reshapeDict(join(from, 'dict'), join(to, 'dict'), to),
];
for (const path of done) process.stdout.write(`${path}\n`);
const todo = done.filter((path) => describe(path.replace(/(\.vector)?\.json$/, ''), to)[0] === 'TODO');
if (todo.length > 0) process.stdout.write(`describe by hand (description and section are TODO): ${todo.join(', ')}\n`);
