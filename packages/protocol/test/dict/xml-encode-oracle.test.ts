/**
 * The hand-written XML encoder writes exactly the bytes the xmlbuilder2 encoder it replaced wrote
 * (docs/PROTOCOL.md §5.4). The old encoder is kept in test/dict/oracle/ as the reference; once the golden
 * vectors and the XML tests are trusted to pin the layout down, this test and the oracle can go.
 */
import fc from 'fast-check';
import { encodeXml, type Dict } from '../../src/dict/index';
import { codeOf } from '@proj/test-utils';
import { dictArb, keyArb, nested, stringArb } from './dict-helpers';
import { encodeXmlWithXmlbuilder2 } from './oracle/xml-encode-xmlbuilder2';

const same = (value: Dict): void => {
  expect(Buffer.from(encodeXml(value)).toString('hex')).toBe(
    Buffer.from(encodeXmlWithXmlbuilder2(value)).toString('hex'),
  );
};

describe('encodeXml against the xmlbuilder2 encoder', () => {
  it('writes the same bytes for random dictionaries', () => {
    fc.assert(fc.property(dictArb(), same), { numRuns: 1000 });
  });

  it('writes the same bytes for keys and strings full of markup, controls and references', () => {
    const nasty = fc.stringMatching(
      /^(?:[<>&"'\t\n\r\\;#x0-9a-z\u0000\u0001\u001f\ufffe\uffff]|&amp;|&#13;|&lt;|\]\]>)*$/,
    );
    const text = fc.oneof(nasty, stringArb);
    const key = fc.oneof(nasty, keyArb);
    fc.assert(
      fc.property(key, text, key, (k, s, k2) => same({ [k]: s, [k2]: [s, { [k]: s }, [], {}], n: { [k]: 1.5 } })),
      { numRuns: 1000 },
    );
  });

  it('writes the same bytes for empty and nested containers at every depth', () => {
    same({});
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32 }), fc.array(fc.boolean(), { maxLength: 32 }), keyArb, (d, kinds, k) =>
        same(nested(d, kinds, k)),
      ),
      { numRuns: 200 },
    );
  });

  it('refuses what the old encoder refused, with the same code', () => {
    for (const bad of [{ a: Number.NaN }, { a: '\uD800' }, nested(40)] as Dict[]) {
      expect(codeOf(() => encodeXml(bad))).toBe(codeOf(() => encodeXmlWithXmlbuilder2(bad)));
    }
    const big = { a: 'x'.repeat(100) };
    expect(codeOf(() => encodeXml(big, { maxDictBytes: 120 }))).toBe(
      codeOf(() => encodeXmlWithXmlbuilder2(big, { maxDictBytes: 120 })),
    );
  });
});
