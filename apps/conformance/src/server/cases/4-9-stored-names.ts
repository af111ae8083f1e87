/**
 * docs/PROTOCOL.md §4, "Stored names": what a client may rely on in a receipt's `path` (relative, `/` between
 * segments, no `..`, `\` or control character, the last segment ending with `-` and the item's name), the names of
 * dictionaries, and the cleaning steps of a file's name, each with names that show it; a name that cleans to
 * nothing is ERR_NAME_INVALID for the put.
 */
import { check, show, type Section } from '../../case';
import type { ServerContext } from '../context';
import { expectError, expectReceipt } from '../expect';
import { finishFile, jsonDict, putDict, startFile, withSession } from '../steps';

const PATH =
  "it is relative to the data directory, uses `/` between segments, and contains no `..` (not even inside a segment), no `\\` and no control character; its last segment ends with `-` and the item's *name*.";

/** §4 Stored names: what a client may rely on in `path`, with `name` the item's name. */
function checkStoredPath(path: string, name: string): void {
  const shown = show(path);
  check(!path.startsWith('/') && !/^[A-Za-z]:/.test(path), () => `a receipt path is relative, got ${shown}`);
  check(!path.includes('..'), () => `a receipt path contains no .., got ${shown}`);
  check(!path.includes('\\'), () => `a receipt path contains no \\, got ${shown}`);
  check(!/[\u0000-\u001f\u007f]/.test(path), () => `a receipt path contains no control character, got ${shown}`);
  const last = path.split('/').at(-1) ?? '';
  check(last.endsWith(`-${name}`), () => `the last segment ends with -${name}, got ${shown}`);
}

/** Each file name sent, and the name it must be stored under. */
type Names = readonly (readonly [sent: string, stored: string])[];

/** One put per name; each receipt's path must end with the cleaned name. */
const cleaned = (id: string, title: string, spec: string, names: Names) => ({
  id,
  title,
  spec,
  run: (ctx: ServerContext) =>
    withSession(ctx, async (conn) => {
      for (const [sent, expected] of names) {
        const p = { id: ctx.ids.next('name'), name: sent, body: Buffer.from(`sent as ${sent}\n`) };
        await startFile(conn, ctx, p);
        await finishFile(conn, ctx, p);
        const receipt = await expectReceipt(conn, ctx, { id: p.id, kind: 'file', body: p.body, duplicate: false });
        check(
          receipt.path.split('/').at(-1)?.endsWith(`-${expected}`),
          () => `${show(sent)} is stored under the name ${show(expected)}, got the path ${show(receipt.path)}`,
        );
        checkStoredPath(receipt.path, expected);
      }
    }),
});

const x = (n: number): string => 'x'.repeat(n);

export const storedNames: Section<ServerContext> = {
  id: '4.9',
  title: 'Stored names',
  cases: [
    cleaned(
      '4.9.1',
      'the examples of the spec are stored under the names it gives',
      'Examples: `../../etc/passwd` → `passwd`; `C:\\Users\\me\\My Report (final).PDF` → `My_Report_final_.PDF`; `con.txt` → `_con.txt`; `.hidden` → `hidden`; `naïve.txt` stays',
      [
        ['../../etc/passwd', 'passwd'],
        ['C:\\Users\\me\\My Report (final).PDF', 'My_Report_final_.PDF'],
        ['con.txt', '_con.txt'],
        ['.hidden', 'hidden'],
        ['naïve.txt', 'naïve.txt'],
      ],
    ),
    {
      id: '4.9.2',
      title: 'a dictionary is stored under dict.json, dict.xml or dict.pb, by format',
      spec: `${PATH} … A dictionary's name is \`dict.json\`, \`dict.xml\` or \`dict.pb\`, by format.`,
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const bodies = {
            json: jsonDict('stored name'),
            xml: Buffer.from('<dict><string key="a">b</string></dict>'),
            protobuf: Buffer.alloc(0),
          };
          const names = { json: 'dict.json', xml: 'dict.xml', protobuf: 'dict.pb' };
          for (const format of ['json', 'xml', 'protobuf'] as const) {
            const receipt = await putDict(conn, ctx, { id: ctx.ids.next('dict-name'), format, body: bodies[format] });
            checkStoredPath(receipt.path, names[format]);
          }
        }),
    },
    {
      id: '4.9.3',
      title: 'names that clean to nothing (.., /, ..., *?, _-_, ¿¡) are ERR_NAME_INVALID for the put',
      spec: '5. If no letter or digit is left, refuse the put with `ERR_NAME_INVALID`. … `..` and `*?` are `ERR_NAME_INVALID`',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          for (const name of ['..', '/', '...', './/..', '*?', '_-_', '¿¡', ' . ']) {
            const id = ctx.ids.next('noname');
            await conn.send({ type: 'put_file', id, name, size: 1 });
            await expectError(conn, ctx, 'ERR_NAME_INVALID', { id, fatal: false }).catch((err: Error) => {
              throw new Error(`${show(name)}: ${err.message}`);
            });
          }
        }),
    },
    cleaned(
      '4.9.4',
      'NFC, the last part of a path, runs of other characters, of _ and of . each made one, . and _ trimmed',
      '1. Normalize to Unicode NFC. 2. Split at every `/` and `\\`; drop empty parts, `.` and `..`; keep the last part (the empty string if none). 3. Replace each run of characters other than letters and digits (Unicode general categories L and N), `.`, `_`, `-` and `+` with one `_`; then each run of `_` with one `_`, and each run of `.` with one `.`. 4. Remove every `.` and `_` from both ends.',
      [
        ['nai\u0308ve.txt', 'na\u00efve.txt'],
        ['dir/sub\\last.txt', 'last.txt'],
        ['a  b!!c+d-e.txt', 'a_b_c+d-e.txt'],
        ['a...b___c.txt', 'a.b_c.txt'],
        ['_._x_._', 'x'],
        ['Ω٣.txt', 'Ω٣.txt'],
      ],
    ),
    cleaned(
      '4.9.5',
      'Windows device names get _ in front, in any letter case',
      '7. A stem that is a Windows device name, in any letter case (`CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9`, and `COM` or `LPT` followed by `¹`, `²` or `³`), gets `_` in front.',
      [
        ['Nul.log', '_Nul.log'],
        ['com0', '_com0'],
        ['LPT9.txt', '_LPT9.txt'],
        ['COM¹.txt', '_COM¹.txt'],
        ['console.txt', 'console.txt'],
      ],
    ),
    cleaned(
      '4.9.6',
      'a name over 100 bytes: the stem is cut (never inside a character, no . or _ left at its end), the extension kept',
      '6. The *extension* is the part from the last `.` on, if it is at most 17 characters (code points, §3) long with its dot; otherwise there is none. The *stem* is the rest. … 8. If the stem and extension together take more than 100 bytes of UTF-8, the stem is cut to fit, never inside a character (a code point), and then loses any `.` and `_` left at its new end.',
      [
        [`${x(120)}.txt`, `${x(96)}.txt`],
        [`${'é'.repeat(60)}.txt`, `${'é'.repeat(48)}.txt`],
        [`${x(95)}._b.txt`, `${x(95)}.txt`],
        [`${x(120)}.${'y'.repeat(16)}`, `${x(83)}.${'y'.repeat(16)}`],
        [`${x(120)}.${'y'.repeat(17)}`, x(100)],
      ],
    ),
  ],
};
