/**
 * The screen's pieces on their own: client text made printable, content behind the gutter and cut to a size, a
 * dictionary's JSON head, and the backlog that skips instead of queueing (the whole server: reliability/escape
 * and reliability/slow-screen).
 */
import { Writable } from 'node:stream';
import fc from 'fast-check';
import type { Dict, DictValue } from '@proj/protocol';
import type { StoredItem } from '../src/store/receipts';
import { Backlog } from '../src/output/backlog';
import { jsonHead } from '../src/output/json-head';
import { approvalQuestion } from '../src/prompts';
import { Output, SCREEN_MAX_BYTES, SCREEN_MAX_LINES } from '../src/output/output';
import { jsonSafe, printable, printableText, quoted } from '../src/output/printable';
import { GUTTER, screenText } from '../src/output/screen-text';

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const ALL_UNSAFE = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i))
  .concat(Array.from({ length: 0x21 }, (_, i) => String.fromCharCode(0x7f + i)))
  .concat(['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'])
  .join('');

describe('printable', () => {
  it('escapes every C0, DEL, C1 and bidi control, and nothing else', () => {
    const shown = printable(`a${ALL_UNSAFE}z é 日本 \u200f`);
    expect(shown).not.toMatch(UNSAFE);
    expect(shown).not.toContain('\n');
    expect(shown.startsWith('a\\x00\\x01')).toBe(true);
    expect(shown).toContain('\\x1b');
    expect(shown).toContain('\\x7f\\x80');
    expect(shown).toContain('\\x9f\\u202a');
    expect(shown).toContain('\\u2069z é 日本 \u200f');
  });

  it('keeps tab and newline in text, and escapes a bare CR', () => {
    expect(printableText('a\tb\nc\rd\u001b')).toBe('a\tb\nc\\x0dd\\x1b');
  });

  it('jsonSafe and quoted keep JSON valid and the value the same', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const q = quoted(s);
        expect(q).not.toMatch(UNSAFE);
        expect(JSON.parse(q)).toBe(s);
        expect(JSON.parse(jsonSafe(JSON.stringify({ [s]: [s] })))).toEqual({ [s]: [s] });
      }),
    );
  });
});

describe('screenText', () => {
  it('puts every line behind the gutter, so none can pass for a server line', () => {
    const { block, complete } = screenText('one\nsaved file x "y" -> items/z\r\n\u001b[2Jthree\n', 1024);
    expect(complete).toBe(true);
    expect(block).toBe(`${GUTTER}one\n${GUTTER}saved file x "y" -> items/z\n${GUTTER}\\x1b[2Jthree`);
  });

  it('never shows more than the budget, and says how much of the input it showed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 0, max: 300 }), (text, budget) => {
        const { block, shownBytes, complete } = screenText(text, budget);
        expect(block).not.toMatch(UNSAFE);
        for (const line of block.split('\n')) if (block !== '') expect(line.startsWith(GUTTER)).toBe(true);
        if (complete) expect(shownBytes).toBe(Buffer.byteLength(text));
        else {
          expect(Buffer.byteLength(block)).toBeLessThanOrEqual(budget);
          expect(shownBytes).toBeLessThanOrEqual(Buffer.byteLength(text));
        }
      }),
    );
  });

  it('cuts inside a long line, never inside an escape', () => {
    const { block, shownBytes, complete } = screenText(`${'\u001b'.repeat(10)}`, GUTTER.length + 10);
    expect(complete).toBe(false);
    expect(block).toBe(`${GUTTER}\\x1b\\x1b`);
    expect(shownBytes).toBe(2);
  });
});

const dictArb: fc.Arbitrary<Dict> = fc.dictionary(
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.letrec<{ v: DictValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 4 }), tie('v'), { maxKeys: 4 }),
    ),
  })).v,
  { maxKeys: 6 },
) as fc.Arbitrary<Dict>;

describe('jsonHead', () => {
  it('is JSON.stringify, made terminal-safe, when it fits (pretty and compact)', () => {
    fc.assert(
      fc.property(dictArb, (dict) => {
        expect(jsonHead(dict, 1e9)).toEqual({ text: jsonSafe(JSON.stringify(dict, null, 2)), complete: true });
        expect(jsonHead(dict, 1e9, 0)).toEqual({ text: jsonSafe(JSON.stringify(dict)), complete: true });
      }),
    );
  });

  it('stops at the cap: whole lines of the pretty print, no more than asked', () => {
    const big: Dict = { rows: Array.from({ length: 100_000 }, (_, i) => ({ i, s: `v${i}` })) };
    const full = JSON.stringify(big, null, 2);
    const head = jsonHead(big, 64 * 1024);
    expect(head.complete).toBe(false);
    expect(head.text.length).toBeLessThanOrEqual(64 * 1024);
    expect(full.startsWith(`${head.text}\n`)).toBe(true);
    const compact = jsonHead(big, 200, 0);
    expect(compact.text).toBe(`${JSON.stringify(big).slice(0, 200)}…`);
  });
});

describe('approvalQuestion', () => {
  it('shows every client field escaped, the preview on its own indented line', () => {
    const q = approvalQuestion({
      kind: 'file',
      id: 'f-1',
      sender: '127.0.0.1:5000',
      detail: 'a\u202etxt.exe\u001b]52;c;aGk=\u0007\nsaved file',
      bytes: 2048,
      preview: '{"x":"\u009b\u2066"}\r\nAccept',
    });
    expect(q).not.toMatch(UNSAFE);
    expect(q.split('\n')).toEqual([
      'Accept file "a\\u202etxt.exe\\u001b]52;c;aGk=\\u0007\\nsaved file", 2.0 KiB f-1 from 127.0.0.1:5000?',
      '  {"x":"\\u009b\\u2066"}\\x0d\\x0aAccept',
    ]);
  });
});

/** A stream that takes writes into `written` only when the test says so: a pipe whose reader the test is. */
class HeldStream extends Writable {
  written = '';
  #pending: Array<() => void> = [];
  constructor() {
    super({ highWaterMark: 4, decodeStrings: false });
  }
  override _write(chunk: string, _enc: BufferEncoding, callback: () => void): void {
    this.#pending.push(() => {
      this.written += chunk;
      callback();
    });
  }
  /** The reader takes one pending write. */
  takeOne(): void {
    this.#pending.shift()?.();
  }
  takeAll(): void {
    while (this.#pending.length > 0) this.takeOne();
  }
}

describe('Backlog', () => {
  it('writes while under the bound, skips above it without building the text, and says so once drained', () => {
    const stream = new HeldStream();
    let told = 0;
    const backlog = new Backlog(stream, 10, () => {
      told += 1;
      stream.write('(skipped)\n');
    });
    expect(backlog.offer(() => 'first line\n')).toBe(true); // 11 chars: now over the bound
    expect(backlog.behind).toBe(true);
    let built = false;
    expect(
      backlog.offer(() => {
        built = true;
        return 'never\n';
      }),
    ).toBe(false);
    expect(built).toBe(false);
    expect(told).toBe(0);
    stream.takeAll(); // the reader catches up: 'drain'
    expect(told).toBe(1);
    stream.takeAll();
    expect(backlog.offer(() => 'next\n')).toBe(true);
    stream.takeAll();
    expect(stream.written).toBe('first line\n(skipped)\nnext\n');
    expect(told).toBe(1);
  });

  it('without a drain to come, tells the skip at the next write under the bound', () => {
    const stream = new HeldStream();
    const said: string[] = [];
    const backlog = new Backlog(stream, 10, () => said.push('told'));
    backlog.offer(() => '0123456789AB');
    backlog.offer(() => 'skipped');
    stream.removeAllListeners('drain');
    stream.takeAll();
    expect(said).toEqual([]);
    expect(backlog.offer(() => 'x')).toBe(true);
    expect(said).toEqual(['told']);
  });
});

function item(id: string, kind: 'dict' | 'file'): StoredItem {
  return {
    id,
    kind,
    path: `items/2026-01-01/000000-s-${id}`,
    bytes: 10,
    sha256: '0'.repeat(64),
    encrypted: false,
    receivedAt: '',
    sender: '127.0.0.1:1',
    serverId: 's',
    ...(kind === 'dict' ? { format: 'json' as const } : { name: 'n.txt' }),
  };
}

describe('Output', () => {
  it('skips whole items while the screen is behind, reads no content for them, and says how many once it caught up', () => {
    const stream = new HeldStream();
    const out = new Output(stream, 'both', 100);
    out.line('listening');
    expect(out.showsContent).toBe(true);
    out.dict(item('d-1', 'dict'), jsonHead({ shown: 'x'.repeat(200) }, SCREEN_MAX_BYTES)); // over the bound from here
    expect(out.showsContent).toBe(false);
    out.dict(item('d-2', 'dict'), undefined);
    out.file(item('f-1', 'file'), { kind: 'text', text: 'hidden', more: false, decrypted: false });
    out.connected('127.0.0.1:2');
    stream.takeAll();
    stream.takeAll();
    out.file(item('f-2', 'file'), undefined); // content not read while behind, shown now that it caught up
    stream.takeAll();
    const lines = stream.written.split('\n');
    expect(lines.filter((l) => l.startsWith('saved ')).map((l) => l.split(' ')[2])).toEqual(['d-1', 'f-2']);
    expect(stream.written).toContain(
      '(screen behind: 2 items and 1 other line not shown; every item is stored, `server list` shows them)',
    );
    expect(stream.written).toContain('(content not shown: the screen was behind)');
    expect(stream.written).not.toContain('hidden');
  });

  it(`shows at most ${SCREEN_MAX_LINES} lines and ${SCREEN_MAX_BYTES / 1024} KiB of a dictionary's JSON, and says so`, () => {
    const stream = new HeldStream();
    const out = new Output(stream, 'screen');
    out.dict(item('d-1', 'dict'), jsonHead({ rows: Array.from({ length: 50_000 }, (_, i) => i) }, SCREEN_MAX_BYTES));
    stream.takeAll();
    expect(Buffer.byteLength(stream.written)).toBeLessThan(2 * SCREEN_MAX_BYTES);
    const content = stream.written.split('\n').filter((l) => l.startsWith(GUTTER));
    expect(content).toHaveLength(SCREEN_MAX_LINES);
    expect(stream.written).toMatch(/\(shown: the first \d+ B of its JSON; the whole dictionary is in the file\)\n$/);
  });

  it('shows a glance of a long text file: one long line is cut by bytes, many lines by lines', () => {
    for (const text of ['x'.repeat(SCREEN_MAX_BYTES), 'short line\n'.repeat(5000)]) {
      const stream = new HeldStream();
      const out = new Output(stream, 'both');
      out.file(item('f-1', 'file'), { kind: 'text', text, more: true, decrypted: false });
      stream.takeAll();
      const content = stream.written.split('\n').filter((l) => l.startsWith(GUTTER));
      expect(content.length).toBeLessThanOrEqual(SCREEN_MAX_LINES);
      expect(Buffer.byteLength(content.join('\n'))).toBeLessThanOrEqual(2 * SCREEN_MAX_BYTES);
      expect(stream.written).toMatch(/\(shown: the first [\d.]+ (B|KiB); the rest is in the file\)\n$/);
    }
  });
});
