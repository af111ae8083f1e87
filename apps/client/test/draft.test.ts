import fc from 'fast-check';
import type { Dict } from '@proj/protocol';
import {
  appendItem,
  checkNewKey,
  depthOf,
  emptyDict,
  emptyList,
  fromDict,
  parseNumber,
  removeEntry,
  removeItem,
  renderDraft,
  setEntry,
  setItem,
  summarize,
  toDict,
} from '../src/interactive/draft';

describe('parseNumber', () => {
  it.each([
    ['42', 42],
    ['-3.5', -3.5],
    ['0', 0],
    ['-0', 0],
    ['1e6', 1e6],
    ['2.5E-3', 2.5e-3],
    ['  7  ', 7],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ['1e300', 1e300],
    ['100000000000000000000', 1e20],
    ['123456789012345680000', 123456789012345680000],
    ['1000000000000000000000', 1e21],
  ])('reads %s', (text, value) => {
    expect(parseNumber(text)).toEqual({ ok: true, value });
  });

  it.each([
    '',
    '   ',
    'abc',
    '12abc',
    '0x10',
    '1_000',
    'NaN',
    'Infinity',
    '-Infinity',
    '.5',
    '5.',
    '01',
    '+1',
    '1,5',
    '1e',
    '--1',
  ])('refuses %j with a message', (text) => {
    const r = parseNumber(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message.length).toBeGreaterThan(10);
  });

  it('refuses numbers out of double range and integers a double would round', () => {
    expect(parseNumber('1e400').ok).toBe(false);
    expect(parseNumber('9007199254740993').ok).toBe(false);
    expect(parseNumber('12345678901234567890').ok).toBe(false);
  });

  it('reads every finite double JSON writes', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const r = parseNumber(JSON.stringify(d));
        return r.ok && (r.value === d || (d === 0 && r.value === 0));
      }),
    );
  });
});

describe('keys', () => {
  const dict = setEntry(emptyDict(), 'name', 'Ada');

  it('refuses an empty or blank key', () => {
    expect(checkNewKey(dict, '')).toMatch(/empty/);
    expect(checkNewKey(dict, '   ')).toMatch(/empty/);
  });

  it('refuses a duplicate key and names it', () => {
    expect(checkNewKey(dict, 'name')).toMatch(/"name" is already/);
  });

  it('accepts new keys, including ones that are Object.prototype names', () => {
    expect(checkNewKey(dict, 'Name')).toBeUndefined();
    expect(checkNewKey(dict, '__proto__')).toBeUndefined();
    expect(checkNewKey(dict, 'constructor')).toBeUndefined();
  });
});

describe('draft edits', () => {
  it('adds, replaces in place, and removes entries, keeping order', () => {
    let d = emptyDict();
    d = setEntry(d, 'a', 1);
    d = setEntry(d, 'b', 'two');
    d = setEntry(d, 'c', null);
    d = setEntry(d, 'a', true);
    expect(Object.keys(toDict(d))).toEqual(['a', 'b', 'c']);
    expect(toDict(d)).toEqual({ a: true, b: 'two', c: null });
    d = removeEntry(d, 'b');
    expect(toDict(d)).toEqual({ a: true, c: null });
  });

  it('builds nested dictionaries and lists', () => {
    let list = appendItem(appendItem(emptyList(), 1), 'x');
    list = setItem(list, 0, false);
    list = appendItem(list, setEntry(emptyDict(), 'deep', 2.5));
    list = removeItem(list, 1);
    const inner = setEntry(emptyDict(), 'list', list);
    const d = setEntry(setEntry(emptyDict(), 'inner', inner), 'n', -1);
    expect(toDict(d)).toEqual({ inner: { list: [false, { deep: 2.5 }] }, n: -1 });
    expect(depthOf(d)).toBe(4);
    expect(renderDraft(d)).toBe(JSON.stringify({ inner: { list: [false, { deep: 2.5 }] }, n: -1 }, null, 2));
  });

  it('keeps __proto__ as an own key, never as the prototype', () => {
    const d = toDict(setEntry(emptyDict(), '__proto__', setEntry(emptyDict(), 'polluted', true)));
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(Object.keys(d)).toEqual(['__proto__']);
    expect(JSON.stringify(d)).toBe('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('summarizes values for menus', () => {
    expect(summarize('hello')).toBe('"hello"');
    expect(summarize(3)).toBe('3');
    expect(summarize(setEntry(emptyDict(), 'a', 1))).toBe('{1 entry}');
    expect(summarize(appendItem(appendItem(emptyList(), 1), 2))).toBe('[2 items]');
    expect(summarize('x'.repeat(100)).length).toBeLessThanOrEqual(40);
  });

  it('round-trips any JSON object through a draft', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const dict = { root: value } as Dict;
        expect(toDict(fromDict(dict))).toEqual(dict);
      }),
    );
  });

  it('refuses to set an item outside the list', () => {
    expect(() => setItem(emptyList(), 0, 1)).toThrow(RangeError);
  });
});
