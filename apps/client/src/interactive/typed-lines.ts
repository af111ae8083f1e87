/**
 * Several lines typed or pasted at the terminal, read in raw mode one character at a time.
 *
 * An enquirer prompt per line would lose a paste: enquirer drops the keys still queued when a prompt submits, so
 * every pasted line after the first vanished. Reading raw bytes keeps every one. The editing is deliberately
 * small: characters, Backspace within the line, Enter. A line holding only the end mark (or Ctrl-D) ends the
 * text; Esc before anything was typed goes back; Ctrl-C interrupts. Other keys (arrows, function keys, the
 * bracketed-paste markers) are escape sequences and are skipped.
 */
import { StringDecoder } from 'node:string_decoder';
import { InterruptedError } from '../errors';
import { GoBack } from './back';

const ESC = '\u001b';

/** The line prompt: its number, so the person sees where they are. */
function linePrompt(n: number): string {
  return `${String(n).padStart(3)} │ `;
}

export function readTypedLines(
  input: NodeJS.ReadStream,
  output: NodeJS.WritableStream,
  endMark: string,
): Promise<string[]> {
  const lines: string[] = [];
  let line = '';
  let afterCR = false;
  const decoder = new StringDecoder('utf8');
  const wasRaw = input.isRaw;
  return new Promise<string[]>((resolve, reject) => {
    const finish = (outcome: () => void): void => {
      input.off('data', onData);
      if (input.isTTY) input.setRawMode(wasRaw);
      input.pause();
      output.write('\r\n');
      outcome();
    };
    const endLine = (): boolean => {
      if (line === endMark) return true;
      lines.push(line);
      line = '';
      output.write(`\r\n${linePrompt(lines.length + 1)}`);
      return false;
    };
    const onData = (chunk: Buffer): void => {
      const text = decoder.write(chunk);
      // A lone Esc arrives as a chunk of its own; a key such as an arrow arrives as one whole sequence.
      if (text === ESC) {
        if (lines.length === 0 && line === '') finish(() => reject(new GoBack()));
        else output.write('\u0007');
        return;
      }
      for (let i = 0; i < text.length; i++) {
        const c = text[i] as string;
        const cr = afterCR;
        afterCR = c === '\r';
        if (c === '\n' && cr) continue; // \r\n from a paste is one line end
        if (c === '\r' || c === '\n') {
          if (endLine()) {
            finish(() => resolve(lines));
            return;
          }
        } else if (c === '\u0003') {
          finish(() => reject(new InterruptedError('cancelled at the prompt')));
          return;
        } else if (c === '\u0004') {
          if (line !== '') lines.push(line);
          finish(() => resolve(lines));
          return;
        } else if (c === '\u007f' || c === '\b') {
          if (line !== '') {
            line = Array.from(line).slice(0, -1).join('');
            output.write('\b \b');
          }
        } else if (c === ESC) {
          i = skipEscapeSequence(text, i);
        } else if (c === '\t' || c >= ' ') {
          line += c;
          output.write(c);
        }
      }
    };
    if (input.isTTY) input.setRawMode(true);
    output.write(linePrompt(1));
    input.on('data', onData);
    input.resume();
  });
}

/** Returns the index of the last character of the escape sequence starting at `start` (CSI, SS3 or ESC + one). */
function skipEscapeSequence(text: string, start: number): number {
  const next = text[start + 1];
  if (next === '[') {
    let i = start + 2;
    while (i < text.length && !/[@-~]/.test(text[i] as string)) i++;
    return i;
  }
  return next === undefined ? start : start + 1;
}
