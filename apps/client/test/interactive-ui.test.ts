/** The colour rule of the interactive client, and how typed text is shown back for review. */
import { showText } from '../src/interactive/text-file';
import { useColor } from '../src/interactive/ui';

const terminal = { isTTY: true } as unknown as NodeJS.WritableStream;
const pipe = {} as NodeJS.WritableStream;

describe('useColor', () => {
  it('colours a terminal unless NO_COLOR (not empty), TERM=dumb or FORCE_COLOR=0 says no', () => {
    expect(useColor({}, terminal)).toBe(true);
    expect(useColor({ NO_COLOR: '' }, terminal)).toBe(true); // no-color.org: only a non-empty value counts
    expect(useColor({ NO_COLOR: '1' }, terminal)).toBe(false);
    expect(useColor({ NO_COLOR: 'false' }, terminal)).toBe(false);
    expect(useColor({ TERM: 'dumb' }, terminal)).toBe(false);
    expect(useColor({ FORCE_COLOR: '0' }, terminal)).toBe(false);
  });

  it('never colours what is not a terminal', () => {
    expect(useColor({}, pipe)).toBe(false);
    expect(useColor({ FORCE_COLOR: '1' }, pipe)).toBe(false);
  });
});

describe('showText', () => {
  it('counts lines and bytes and shows each line', () => {
    expect(showText('a.txt', 'one\ntwo\n')).toBe('a.txt: 2 lines, 8 bytes\n  │ one\n  │ two');
    expect(showText('a.txt', 'é')).toBe('a.txt: 1 line, 2 bytes\n  │ é');
    expect(showText('a.txt', '')).toBe('a.txt is empty (0 bytes).');
  });

  it('writes control characters visibly, so text from an editor cannot drive the terminal', () => {
    const shown = showText('x', 'a\u001b[2Jb\u0007\rc\u009b\n');
    expect(shown).toBe('x: 1 line, 12 bytes\n  │ a\\x1b[2Jb\\x07\\x0dc\\x9b');
    expect(shown).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('shows at most 20 lines, each cut at 160 characters', () => {
    const long = `${'x'.repeat(300)}\n`.repeat(25);
    const lines = showText('big', long).split('\n');
    expect(lines).toHaveLength(1 + 20 + 1);
    expect(lines[1]).toHaveLength(4 + 160);
    expect(lines[1]?.endsWith('…')).toBe(true);
    expect(lines.at(-1)).toBe('  … and 5 more lines');
  });
});
