/**
 * The minimum transfer rate of a connection while it is sending something (a frame, a put's body), in the manner
 * of Apache's mod_reqtimeout: a transfer starts with `graceMs` of credit, and every byte received adds
 * 1/minRate s of it, up to `graceMs` ahead. A client that sends at least `minRate` bytes per second never runs
 * out; one that drips a byte every few seconds runs out within about `graceMs`, and is cut. Only the client's
 * own slowness counts: while the server is the one waiting (a disk write, a commit, an approval), the guard is
 * paused and starts afresh after.
 */
export class RateGuard {
  readonly #minRate: number;
  readonly #graceMs: number;
  readonly #onSlow: () => void;
  #active = false;
  #deadline = 0;
  #timer: NodeJS.Timeout | undefined;

  /** `minRate` in bytes per second; 0 (or a `graceMs` of 0) turns the guard off. */
  constructor(minRate: number, graceMs: number, onSlow: () => void) {
    this.#minRate = minRate;
    this.#graceMs = graceMs;
    this.#onSlow = onSlow;
  }

  get active(): boolean {
    return this.#active;
  }

  /** Starts timing a transfer (no-op when already started or turned off). */
  start(): void {
    if (this.#active || this.#minRate <= 0 || this.#graceMs <= 0) return;
    this.#active = true;
    this.#deadline = performance.now() + this.#graceMs;
    this.#schedule(this.#graceMs);
  }

  /** Stops timing: the transfer is over, or the server is the one waiting. */
  stop(): void {
    this.#active = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Credits bytes received. */
  credit(bytes: number): void {
    if (!this.#active) return;
    this.#deadline = Math.min(performance.now() + this.#graceMs, this.#deadline + (bytes * 1000) / this.#minRate);
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => this.#check(), Math.max(1, Math.ceil(ms)));
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    if (!this.#active) return;
    const left = this.#deadline - performance.now();
    if (left > 0) {
      this.#schedule(left);
      return;
    }
    this.stop();
    this.#onSlow();
  }
}
