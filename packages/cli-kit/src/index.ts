/**
 * Private helpers both command lines (and the bench) share: the usage error, number parsing, byte sizes, where
 * relative paths resolve from, colour, error lines, signals, and ending the process cleanly.
 */
export { UsageError } from './usage-error';
export { parseCount, parsePort, shown } from './numbers';
export type { CountOptions, PortOptions } from './numbers';
export { formatBytes } from './bytes';
export { invocationDir, resolvePath } from './invocation';
export type { InvocationContext } from './invocation';
export { colorEnabled } from './color';
export { errorCode, errorJson, errorLine } from './messages';
export { exitWhenFlushed, programArgs, quietOnEpipe, STALLED_MS } from './process-exit';
export type { OutStream } from './process-exit';
export { onStopSignals, SAME_SIGNAL_MS, signalExitCode } from './signals';
export type { SignalHandlers, StopSignal } from './signals';
export { packageVersion } from './version';
