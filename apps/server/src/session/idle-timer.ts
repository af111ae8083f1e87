/**
 * How long a client may keep the server waiting for its next frame: first for its hello (the handshake timeout),
 * then between frames (the idle timeout). Server-side work (a write, a commit, an approval) does not count as the
 * client's silence: the idle timer is paused meanwhile and starts afresh after.
 */
export type TimerPhase = 'handshake' | 'idle';

export class IdleTimer {
  readonly #onTimeout: (phase: TimerPhase, ms: number) => void;
  #timer: NodeJS.Timeout | undefined;
  #ms = 0;
  #phase: TimerPhase = 'handshake';
  #paused = false;

  constructor(onTimeout: (phase: TimerPhase, ms: number) => void) {
    this.#onTimeout = onTimeout;
  }

  /** Starts (or restarts) the timer for `phase`; 0 turns it off. */
  start(ms: number, phase: TimerPhase): void {
    this.clear();
    this.#ms = ms;
    this.#phase = phase;
    if (ms <= 0) return;
    this.#timer = setTimeout(() => this.#onTimeout(phase, ms), ms);
    this.#timer.unref();
  }

  /** The client was active: the idle timer starts over (not the handshake's, and not while paused). */
  touch(): void {
    if (this.#phase === 'idle' && !this.#paused) this.#timer?.refresh();
  }

  /** The server is the one working: the idle timer stops until resume(). */
  pause(): void {
    if (this.#phase !== 'idle' || this.#paused) return;
    this.#paused = true;
    this.clear();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.start(this.#ms, this.#phase);
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
