/** Where the interactive flows write what they tell the person. Tests collect it instead. */
export interface Ui {
  /** A line of information. */
  info(text: string): void;
  /** Something went wrong with the last answer or action; the flow goes on. */
  warn(text: string): void;
}

/** Writes to a stream (the terminal). */
export function streamUi(out: NodeJS.WritableStream = process.stdout): Ui {
  return {
    info: (text) => out.write(`${text}\n`),
    warn: (text) => out.write(`! ${text}\n`),
  };
}
