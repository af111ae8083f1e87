/** Where the interactive flows write what they tell the person (tests collect it instead), and the colour rule. */
import { colorEnabled } from '@proj/cli-kit';

export interface Ui {
  /** A line of information. */
  info(text: string): void;
  /** Something went wrong with the last answer or action; the flow goes on. */
  warn(text: string): void;
}

/**
 * Whether to draw colours on `stream`: only at a terminal, never when NO_COLOR is set to anything but the empty
 * string (no-color.org), when TERM is `dumb`, or when FORCE_COLOR is `0`. The prompts (prompts.ts) and the lines
 * of `streamUi` read this one rule, which is the whole CLI's (@proj/cli-kit `colorEnabled`).
 */
export function useColor(env: NodeJS.ProcessEnv, stream: NodeJS.WritableStream): boolean {
  return colorEnabled(env, stream as { isTTY?: boolean });
}

const YELLOW = '\u001b[33m';
const RESET = '\u001b[39m';

/** Writes to a stream (the terminal); with `color`, the mark of a warning is yellow. */
export function streamUi(out: NodeJS.WritableStream = process.stdout, color = false): Ui {
  const mark = color ? `${YELLOW}!${RESET}` : '!';
  return {
    info: (text) => out.write(`${text}\n`),
    warn: (text) => out.write(`${mark} ${text}\n`),
  };
}
