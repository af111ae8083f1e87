/**
 * Text that came from a client, made harmless for a terminal. A terminal acts on control characters: ESC and the
 * C1 controls (U+0080-U+009F, which xterm honours even UTF-8 encoded) start sequences that clear the screen, set
 * the window title or write the clipboard (OSC 52); a bare CR returns to the start of the line and lets what
 * follows overwrite it; the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069, "Trojan Source")
 * make a name show something other than what it is. Each is shown escaped instead: `\x1b`, `\x9b`, `\u202e`.
 *
 * `JSON.stringify` escapes C0 but not DEL, C1 or the bidi controls: `jsonSafe` finishes the job on JSON text,
 * with `\u` escapes, so that the text stays valid JSON that parses to the same value.
 */

/** Every character a terminal may act on: C0, DEL, C1, the bidi embeddings, overrides and isolates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same, but keeping tab and newline: for multi-line text (a file's content). */
const UNSAFE_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** What is left unsafe in JSON text, where C0 is already escaped (and cannot occur raw). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `\xHH` for a character below U+0100, `\uHHHH` above. */
function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

function jsonEscape(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * One line of client text (a sender, a reason, a table cell), every control character escaped, newline and tab
 * included. Backslashes are left as they are: the result is for eyes, not for parsing.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Multi-line client text: like `printable`, but tab and newline are kept. A bare CR is escaped (`\x0d`). */
export function printableText(text: string): string {
  return text.replace(UNSAFE_IN_TEXT, escapeChar);
}

/** JSON text with DEL, C1 and the bidi controls escaped as `\uHHHH`: still valid JSON, the same value. */
export function jsonSafe(json: string): string {
  return json.replace(UNSAFE_IN_JSON, jsonEscape);
}

/** A client string in double quotes, JSON-escaped and safe for a terminal (a file name, a put id). */
export function quoted(text: string): string {
  return jsonSafe(JSON.stringify(text));
}
