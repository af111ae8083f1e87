/** Put ids for the cases (docs/PROTOCOL.md §3, *id*): fresh in every run, since a server keeps every receipt. */
import { randomBytes } from 'node:crypto';

/** Put ids no earlier run used: the server keeps every receipt, so a reused id would get a duplicate. */
export class PutIds {
  /** Eight random base-36 characters naming this run. */
  readonly run: string;
  #n = 0;

  constructor(run = randomRun()) {
    this.run = run;
  }

  /** A fresh id, `cf-<run>-<label>-<n>` (labels are short words of [a-z0-9-]). */
  next(label = 'put'): string {
    this.#n += 1;
    return `cf-${this.run}-${label}-${this.#n}`;
  }

  /** A fresh id whose length does not depend on how many came before (so that a stream keeps its byte offsets). */
  fixed(label = 'put'): string {
    this.#n += 1;
    return `cf-${this.run}-${label}-${String(this.#n).padStart(7, '0')}`;
  }
}

function randomRun(): string {
  let out = '';
  for (const b of randomBytes(8)) out += (b % 36).toString(36);
  return out;
}
