/** Random and mutated bytes give a dictionary or a coded error in every format: never a crash or a hang. */
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors';
import { decodeDict, encodeDict } from '../../src/dict/index';
import { FORMATS, dictArb, safeNumberArb } from './dict-helpers';

const decodesOrCodes = (bytes: Uint8Array, format: (typeof FORMATS)[number]): void => {
  try {
    decodeDict(bytes, format);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
};

describe.each(FORMATS)('%s', (format) => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => decodesOrCodes(bytes, format)),
      { numRuns: 1000 },
    );
  });

  it('valid encodings with bytes flipped, cut or inserted', () => {
    fc.assert(
      fc.property(
        dictArb(safeNumberArb),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom('flip', 'cut', 'insert'),
        (value, at, byte, how) => {
          const bytes = encodeDict(value, format);
          const i = bytes.length === 0 ? 0 : at % bytes.length;
          let mutated: Uint8Array;
          if (how === 'flip') mutated = bytes.map((b, j) => (j === i ? b ^ (byte | 1) : b));
          else if (how === 'cut') mutated = bytes.subarray(0, i);
          else mutated = new Uint8Array([...bytes.subarray(0, i), byte, ...bytes.subarray(i)]);
          decodesOrCodes(mutated, format);
        },
      ),
      { numRuns: 500 },
    );
  });
});
