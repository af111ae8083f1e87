/**
 * A client's text as the screen shows it: every line behind a gutter, so that content can never pass for a line
 * of the server's own (a file holding "\nsaved file … -> …" shows as `  | saved file …`), control characters
 * escaped (./printable.ts), and at most a given number of bytes of it.
 */
import { printableText } from './printable';

/** What starts every line of client content on the screen. No line of the server's own starts with it. */
export const GUTTER = '  | ';

export interface ScreenText {
  /** The lines to print, each starting with the gutter, joined by `\n` (no final newline). */
  block: string;
  /** How many bytes (UTF-8) of the input the block shows. */
  shownBytes: number;
  /** True when the whole input is shown. */
  complete: boolean;
}

/**
 * `text` behind the gutter, escaped, cut so that the block takes at most `maxBytes` (UTF-8, newlines included) and
 * at most `maxLines` lines.
 * A CR before a newline ends the line with it (Windows text); any other CR is escaped, since it would let the
 * rest of the line overwrite its start. One final newline adds no empty line.
 */
export function screenText(text: string, maxBytes: number, maxLines = Number.POSITIVE_INFINITY): ScreenText {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const out: string[] = [];
  let used = 0;
  let shownBytes = 0;
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (out.length >= maxLines) return { block: out.join('\n'), shownBytes, complete: false };
    const raw = lines[i] as string;
    const crlf = raw.endsWith('\r') && (i < lines.length - 1 || text.endsWith('\n'));
    const source = crlf ? raw.slice(0, -1) : raw;
    const line = GUTTER + printableText(source);
    const cost = Buffer.byteLength(line) + (out.length > 0 ? 1 : 0);
    if (used + cost <= maxBytes) {
      out.push(line);
      used += cost;
      shownBytes += Buffer.byteLength(raw) + 1;
      continue;
    }
    // This line does not fit whole: show as much of it as fits, character by character, then stop.
    let partial = GUTTER;
    let partialBytes = Buffer.byteLength(GUTTER) + (out.length > 0 ? 1 : 0);
    for (const ch of source) {
      const shown = printableText(ch);
      const n = Buffer.byteLength(shown);
      if (used + partialBytes + n > maxBytes) break;
      partial += shown;
      partialBytes += n;
      shownBytes += Buffer.byteLength(ch);
    }
    if (partial.length > GUTTER.length) out.push(partial);
    return { block: out.join('\n'), shownBytes, complete: false };
  }
  return { block: out.join('\n'), shownBytes: Buffer.byteLength(text), complete: true };
}
