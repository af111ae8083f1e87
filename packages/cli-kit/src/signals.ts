/**
 * Ctrl-C and SIGTERM, told once. Under `pnpm … start`, one Ctrl-C reaches the program twice: from the terminal
 * (the whole foreground process group gets it) and again from pnpm, which passes it on to the script it started
 * (measured: 0.6 ms apart). A second signal within SAME_SIGNAL_MS of the first is that same request; only a later
 * one means "again, now".
 */

export const SAME_SIGNAL_MS = 500;

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface SignalHandlers {
  /** The first SIGINT or SIGTERM. */
  first(signal: StopSignal): void;
  /** Any later one, more than SAME_SIGNAL_MS after the first. */
  again(signal: StopSignal): void;
}

/** Listens for SIGINT and SIGTERM on `proc` (default: this process); returns a function that stops listening. */
export function onStopSignals(
  handlers: SignalHandlers,
  proc: NodeJS.EventEmitter = process,
  now: () => number = Date.now,
): () => void {
  let firstAt: number | undefined;
  const on = (signal: StopSignal): void => {
    if (firstAt === undefined) {
      firstAt = now();
      handlers.first(signal);
    } else if (now() - firstAt > SAME_SIGNAL_MS) {
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
