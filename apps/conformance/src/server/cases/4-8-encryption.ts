/**
 * docs/PROTOCOL.md §4, "Encryption": the server looks at the bytes, not only at the declaration. An age file
 * (the binary header line, or the armor line after at most 30 whitespace bytes) is stored with
 * `receipt.encrypted: true` and a name ending in `.age`, whatever was declared; bytes declared `age` that are not
 * an age file are refused at file_end with ERR_ENCRYPTION_MISMATCH (after the count and the SHA-256), and
 * nothing is stored. The server needs no key: the kit's age files are headers followed by bytes no one decrypts.
 */
import { check, show, type Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError, expectReceipt, sha256Hex } from '../expect';
import { fileNotStored, finishFile, pingPong, startFile, withSession, type FilePutSpec } from '../steps';

const BINARY = Buffer.from('age-encryption.org/v1\n-> X25519 conformance\nnot a real stanza\n--- x\n\x00\x01\x02');
const ARMOR =
  '-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCg==\n-----END AGE ENCRYPTED FILE-----\n';
/** The armored form after `n` bytes of whitespace (space, TAB, CR and LF in turn). */
const armored = (n: number): Buffer => Buffer.from(`${' \t\r\n'.repeat(8).slice(0, n)}${ARMOR}`);
const PLAIN = Buffer.from('plain text the client believes encrypted\n');

const AGE_FILE =
  "They are an *age file* when they begin with the 22 bytes `age-encryption.org/v1` and LF (0x0a), age's binary format, or with the 34 bytes `-----BEGIN AGE ENCRYPTED FILE-----` after 0 to 30 bytes of whitespace (space, TAB, CR, LF), age's armored format.";
const SUFFIX =
  "A stored age file's name ends with `.age`: the server appends `.age` to the cleaned name unless it already ends with `.age` in any letter case";
const MISMATCH =
  '| `age` | not an age file | refuses the put at `file_end` with `ERR_ENCRYPTION_MISMATCH` (not fatal); nothing is stored |';

/** A file put that must be stored: its receipt describes the bytes, says `encrypted`, and ends with `-stored`. */
function stored(
  id: string,
  title: string,
  spec: string,
  p: { name: string; body: Buffer; encryption?: 'none' | 'age' },
  expected: { encrypted: boolean; stored: string },
) {
  return {
    id,
    title,
    spec,
    run: (ctx: ServerContext) =>
      withSession(ctx, async (conn) => {
        const put: FilePutSpec = { id: ctx.ids.next('age'), ...p };
        await startFile(conn, ctx, put);
        await finishFile(conn, ctx, put);
        const receipt = await expectReceipt(conn, ctx, { id: put.id, kind: 'file', body: p.body, duplicate: false });
        check(
          receipt.encrypted === expected.encrypted,
          () => `expected encrypted: ${expected.encrypted}, got ${show(receipt)}`,
        );
        check(
          receipt.path.endsWith(`-${expected.stored}`),
          () =>
            `a file sent as ${show(p.name)} is stored under the name ${show(expected.stored)}, got ${show(receipt.path)}`,
        );
      }),
  };
}

/** A file put declared `age` whose bytes are not an age file: ERR_ENCRYPTION_MISMATCH at file_end, nothing stored. */
function refused(id: string, title: string, spec: string, bytes: Buffer) {
  return {
    id,
    title,
    spec,
    run: async (ctx: ServerContext) => {
      const put: FilePutSpec = { id: ctx.ids.next('not-age'), name: 'secret.txt', body: bytes, encryption: 'age' };
      await withSession(ctx, async (conn) => {
        await startFile(conn, ctx, put);
        await finishFile(conn, ctx, put);
        await expectError(conn, ctx, 'ERR_ENCRYPTION_MISMATCH', { id: put.id, fatal: false });
        await pingPong(conn, ctx, 'after the refusal');
      });
      await fileNotStored(ctx, put.id);
    },
  };
}

export const encryption: Section<ServerContext> = {
  id: '4.8',
  title: 'Encryption',
  cases: [
    stored(
      '4.8.1',
      'declared age, an age file (binary): stored, encrypted: true, .age appended to the name',
      `| \`age\` | an age file | stores it; \`receipt.encrypted\` is true | … ${SUFFIX}`,
      { name: 'notes.txt', body: BINARY, encryption: 'age' },
      { encrypted: true, stored: 'notes.txt.age' },
    ),
    stored(
      '4.8.2',
      'declared age, an armored age file after 30 bytes of whitespace: stored, encrypted: true',
      AGE_FILE,
      { name: 'armored.txt', body: armored(30), encryption: 'age' },
      { encrypted: true, stored: 'armored.txt.age' },
    ),
    refused(
      '4.8.3',
      'declared age, plain bytes: ready, then ERR_ENCRYPTION_MISMATCH at file_end (not fatal); nothing stored',
      MISMATCH,
      PLAIN,
    ),
    refused(
      '4.8.4',
      'declared age, the armor line after 31 bytes of whitespace: ERR_ENCRYPTION_MISMATCH',
      `${AGE_FILE} … ${MISMATCH}`,
      armored(31),
    ),
    refused(
      '4.8.5',
      'declared age, the binary header line ended by a space instead of LF: ERR_ENCRYPTION_MISMATCH',
      `${AGE_FILE} … ${MISMATCH}`,
      Buffer.concat([Buffer.from('age-encryption.org/v1 '), BINARY.subarray(22)]),
    ),
    stored(
      '4.8.6',
      'declared none, an age file: stored as the age file it is, encrypted: true, .age appended',
      '| `none` (or absent) | an age file | stores it as the age file it is; `receipt.encrypted` is true |',
      { name: 'sent-as-is.txt', body: BINARY, encryption: 'none' },
      { encrypted: true, stored: 'sent-as-is.txt.age' },
    ),
    stored(
      '4.8.7',
      'no encryption declared, plain bytes: stored, encrypted: false, the name unchanged',
      '| `none` (or absent) | not an age file | stores it; `receipt.encrypted` is false |',
      { name: 'plain.txt', body: PLAIN },
      { encrypted: false, stored: 'plain.txt' },
    ),
    stored(
      '4.8.8',
      'an age file named backup.tar.AGE keeps its name (no second .age)',
      SUFFIX,
      { name: 'backup.tar.AGE', body: armored(0), encryption: 'age' },
      { encrypted: true, stored: 'backup.tar.AGE' },
    ),
    {
      id: '4.8.9',
      title: 'declared age, plain bytes and a wrong SHA-256: ERR_CHECKSUM_MISMATCH (checked before the encryption)',
      spec: 'At `file_end` it checks, in this order, the byte count (`ERR_SIZE_MISMATCH` when it differs from `file_end.bytes` or from the declared `size`), the SHA-256 (`ERR_CHECKSUM_MISMATCH`) and the declared encryption (`ERR_ENCRYPTION_MISMATCH`, below)',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const put: FilePutSpec = { id: ctx.ids.next('age-sum'), name: 'sum.txt', body: PLAIN, encryption: 'age' };
          await startFile(conn, ctx, put);
          await finishFile(conn, ctx, put, { sha256: sha256Hex(BINARY) });
          await expectError(conn, ctx, 'ERR_CHECKSUM_MISMATCH', { id: put.id, fatal: false });
        }),
    },
  ],
};
