/**
 * Ctrl-C and SIGTERM, told once. Under `pnpm … start`, one Ctrl-C reaches the program twice: from the terminal
 * (the whole foreground process group gets it) and again from pnpm, which passes it on to the script it started
 * (measured: 0.6 ms apart). A SIGINT within SAME_SIGNAL_MS of a first SIGINT is that same keypress; any other
 * later signal means "again, now". A SIGTERM is sent to one process (kill, systemd), so it never comes twice
 * by itself.
 */

export const SAME_SIGNAL_MS = 500;

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface SignalHandlers {
  /** The first SIGINT or SIGTERM. */
  first(signal: StopSignal): void;
  /** Any later one, but a SIGINT within SAME_SIGNAL_MS of a first SIGINT. */
  again(signal: StopSignal): void;
}

/** Listens for SIGINT and SIGTERM on `proc` (default: this process); returns a function that stops listening. */
export function onStopSignals(
  handlers: SignalHandlers,
  proc: NodeJS.EventEmitter = process,
  now: () => number = Date.now,
): () => void {
  let first: { signal: StopSignal; at: number } | undefined;
  const on = (signal: StopSignal): void => {
    if (first === undefined) {
      first = { signal, at: now() };
      handlers.first(signal);
    } else if (!(signal === 'SIGINT' && first.signal === 'SIGINT' && now() - first.at <= SAME_SIGNAL_MS)) {
      handlers.again(signal);
    }
  };
  const onInt = (): void => on('SIGINT');
  const onTerm = (): void => on('SIGTERM');
  proc.on('SIGINT', onInt);
  proc.on('SIGTERM', onTerm);
  return () => {
    proc.removeListener('SIGINT', onInt);
    proc.removeListener('SIGTERM', onTerm);
  };
}

/** Conventional exit code for a program ended by `signal`: 128 + its number. */
export function signalExitCode(signal: StopSignal): number {
  return signal === 'SIGINT' ? 130 : 143;
}
