import { codeOf, codeOfRejection } from '../src/index';

const coded = (code: string): Error => Object.assign(new Error('x'), { code });

describe('codeOf', () => {
  test('the code of what is thrown, undefined when nothing is', () => {
    expect(
      codeOf(() => {
        throw coded('ERR_X');
      }),
    ).toBe('ERR_X');
    expect(codeOf(() => 1)).toBeUndefined();
  });

  test('an error without a code is thrown again', () => {
    const plain = new Error('plain');
    expect(() =>
      codeOf(() => {
        throw plain;
      }),
    ).toThrow(plain);
  });
});

describe('codeOfRejection', () => {
  test("the rejection's code, 'resolved' when it resolves", async () => {
    expect(await codeOfRejection(Promise.reject(coded('ENOENT')))).toBe('ENOENT');
    expect(await codeOfRejection(Promise.resolve(1))).toBe('resolved');
  });

  test('a rejection without a code is thrown again', async () => {
    await expect(codeOfRejection(Promise.reject(new Error('plain')))).rejects.toThrow('plain');
  });
});
