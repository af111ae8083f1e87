/** The XML encoding (docs/PROTOCOL.md §5.4): layout, escapes, numbers, and what decoding refuses. */
import { decodeXml, encodeXml, type Dict } from '../../src/dict/index';
import { codeOf } from '@proj/test-utils';
import { expectSameDict, text, utf8 } from './dict-helpers';

const DECL = '<?xml version="1.0" encoding="UTF-8"?>';
const decode = (xml: string, limits?: { maxDictDepth?: number }): Dict => decodeXml(utf8(xml), limits);

describe('encodeXml', () => {
  it('writes typed elements with keys in attributes', () => {
    expect(text(encodeXml({ 'a b': [1, '', null, true, false, {}, []], o: { n: -0 } }))).toBe(
      `${DECL}<dict><array key="a b"><number>1</number><string></string><null/><true/><false/>` +
        '<object/><array/></array><object key="o"><number key="n">-0</number></object></dict>',
    );
  });

  it('writes CR as a reference, and TAB, LF, CR in keys as references', () => {
    expect(text(encodeXml({ 'k\t\n\r': ' a\r\nb\t ' }))).toBe(
      `${DECL}<dict><string key="k&#9;&#10;&#13;"> a&#13;\nb\t </string></dict>`,
    );
  });

  it('escapes characters XML cannot carry with backslashes, marked escaped="true"', () => {
    expect(text(encodeXml({ 'k\u0001\\': 'a\u0000\\b\uFFFE' }))).toBe(
      `${DECL}<dict><string key="k\\u0001\\\\" escaped="true">a\\u0000\\\\b\\uFFFE</string></dict>`,
    );
    expect(text(encodeXml({ 'k\u0001': 'plain\\' }))).toContain(
      '<string key="k\\u0001" escaped="true">plain\\\\</string>',
    );
    expect(text(encodeXml({ k: 'plain\\' }))).toContain('<string key="k">plain\\</string>');
  });

  it('writes the empty dictionary as an empty root element, always after the declaration (§5.4 grammar)', () => {
    expect(text(encodeXml({}))).toBe(`${DECL}<dict/>`);
    expect(decode('<dict></dict>')).toEqual({});
    expect(decode(`${DECL}<dict><object key="o"></object><array key="a"></array></dict>`)).toEqual({ o: {}, a: [] });
  });
});

describe('decodeXml accepts', () => {
  it('indentation between elements, comments, CDATA, a BOM, single quotes and self-closing elements', () => {
    const xml =
      "\uFEFF<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n<!-- c -->\n<dict>\n  <string key='a'><![CDATA[<x>]]>&amp;&#x41;&#66;</string>\n" +
      '  <array key="b">\n    <string/>\n    <object/>\n  </array>\n  <true key="t"></true>\n</dict>\n<!-- end -->\n';
    expectSameDict(decode(xml), { a: '<x>&AB', b: ['', {}], t: true });
  });

  it('a document without a declaration', () => {
    expect(decode('<dict/>')).toEqual({});
  });

  it('whitespace inside strings exactly, CRLF written as a reference', () => {
    expect(decode(`<dict><string key="s">  a&#13;\n\tb  </string></dict>`)).toEqual({ s: '  a\r\n\tb  ' });
  });

  it('a raw CR as LF, as XML line-end handling says', () => {
    expect(decode(`<dict><string key="s">a\r\nb\rc</string></dict>`)).toEqual({ s: 'a\nb\nc' });
  });

  it('a raw TAB or LF in a key as a space, as attribute normalisation says', () => {
    expect(decode(`<dict><null key="a\tb\nc"/></dict>`)).toEqual({ 'a b c': null });
  });

  it.each([
    ['-0', -0],
    ['0', 0],
    ['1E5', 1e5],
    ['0.50', 0.5],
    ['-1.5e-7', -1.5e-7],
    ['5e-324', 5e-324],
    ['1.7976931348623157e+308', Number.MAX_VALUE],
  ])('the number %s', (s, n) => {
    expect(Object.is(decode(`<dict><number key="n">${s}</number></dict>`).n, n)).toBe(true);
  });

  it('a backslash as itself when the element is not marked escaped', () => {
    expect(decode(`<dict><string key="\\u0041">\\u0041</string></dict>`)).toEqual({ '\\u0041': '\\u0041' });
  });

  it('a __proto__ key as an own key', () => {
    const d = decode(`<dict><object key="__proto__"><true key="polluted"/></object></dict>`);
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(Object.keys(d)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('decodeXml refuses forbidden markup before parsing', () => {
  const billionLaughs =
    `${DECL}<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><dict><string key="a">&lol2;</string></dict>';
  it.each([
    ['billion laughs', billionLaughs],
    [
      'an external entity',
      `${DECL}<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><dict><string key="a">&xxe;</string></dict>`,
    ],
    ['a plain DOCTYPE', `${DECL}<!DOCTYPE dict><dict/>`],
    ['a DOCTYPE with an external DTD', '<!DOCTYPE dict SYSTEM "http://example.invalid/d.dtd"><dict/>'],
    ['a lower-case doctype', '<!doctype dict><dict/>'],
    ['an entity declaration alone', '<dict><!ENTITY e "x"></dict>'],
    ['a processing instruction', `${DECL}<?xml-stylesheet href="x"?><dict/>`],
    ['a processing instruction inside', '<dict><?php echo 1; ?></dict>'],
    ['a declaration not at the start', ` ${DECL}<dict/>`],
  ])('%s', (_name, xml) => {
    expect(codeOf(() => decode(xml))).toBe('ERR_XML_FORBIDDEN');
  });
});

describe('decodeXml refuses with ERR_DECODE', () => {
  it.each([
    ['empty input', ''],
    ['no root', DECL],
    ['a wrong root', '<object/>'],
    ['an unclosed root', '<dict>'],
    ['mismatched end tags', '<dict><array key="a"></object></dict>'],
    ['a second root', '<dict/><dict/>'],
    ['text after the root', '<dict/>x'],
    ['an undefined entity', '<dict><string key="a">&xxe;</string></dict>'],
    ['a bare ampersand', '<dict><string key="a">a & b</string></dict>'],
    ['a reference to NUL', '<dict><string key="a">&#0;</string></dict>'],
    ['a reference to a surrogate', '<dict><string key="a">&#xD800;</string></dict>'],
    ['a raw control character', '<dict><string key="a">\u0001</string></dict>'],
    ['"]]>" in text', '<dict><string key="a">]]></string></dict>'],
    ['an unquoted attribute', '<dict><string key=a>x</string></dict>'],
    ['a repeated attribute', '<dict><string key="a" key="b">x</string></dict>'],
    ['an unknown attribute', '<dict><string key="a" type="x">x</string></dict>'],
    ['a namespace declaration', '<dict xmlns="urn:x"/>'],
    ['an unknown element', '<dict><integer key="a">1</integer></dict>'],
    ['a nested dict', '<dict><dict key="a"/></dict>'],
    ['a member without a key', '<dict><string>x</string></dict>'],
    ['an item with a key', '<dict><array key="a"><string key="b">x</string></array></dict>'],
    ['a key on the root', '<dict key="a"/>'],
    ['text in an object', '<dict>text</dict>'],
    ['an element in a string', '<dict><string key="a"><null/></string></dict>'],
    ['content in null', '<dict><null key="a"> </null></dict>'],
    ['escaped="false"', '<dict><string key="a" escaped="false">x</string></dict>'],
    ['a bad backslash escape', '<dict><string key="a" escaped="true">\\x</string></dict>'],
    ['a short \\u escape', '<dict><string key="a" escaped="true">\\u41</string></dict>'],
    ['a non-UTF-8 encoding', '<?xml version="1.0" encoding="ISO-8859-1"?><dict/>'],
    ['XML 1.1', '<?xml version="1.1"?><dict/>'],
    ['a malformed comment', '<dict><!-- a -- b --></dict>'],
    ['an unterminated comment', '<dict><!-- a </dict>'],
    ['100000 nested unknown elements', `<dict>${'<a>'.repeat(100_000)}`],
  ])('%s', (_name, xml) => {
    expect(codeOf(() => decode(xml))).toBe('ERR_DECODE');
  });

  it.each(['NaN', 'Infinity', '-Infinity', '', ' 1', '1 ', '+1', '.5', '1.', '01', '0x10', '1e', '--1', '1e400', '١'])(
    'the number %j',
    (s) => {
      expect(codeOf(() => decode(`<dict><number key="n">${s}</number></dict>`))).toBe('ERR_DECODE');
    },
  );

  it('invalid UTF-8', () => {
    expect(codeOf(() => decodeXml(new Uint8Array([0x3c, 0x64, 0xff, 0x2f, 0x3e])))).toBe('ERR_DECODE');
  });
});

describe('decodeXml depth', () => {
  it('refuses 100000 nested arrays as too deep, without a stack overflow', () => {
    expect(codeOf(() => decode(`<dict><array key="a">${'<array>'.repeat(100_000)}`))).toBe('ERR_DICT_TOO_DEEP');
  });

  it('counts the root <dict> as depth 1', () => {
    expect(decode('<dict><object key="a"/></dict>', { maxDictDepth: 2 })).toEqual({ a: {} });
    expect(codeOf(() => decode('<dict><object key="a"/></dict>', { maxDictDepth: 1 }))).toBe('ERR_DICT_TOO_DEEP');
  });
});
