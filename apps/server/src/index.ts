/**
 * The server as a library: start one in-process (tests, embedding) and read what a data directory received.
 */
export { startServer } from './server';
export type { RunningServer } from './server';
export { listReceived } from './store/receipts';
export type { StoredItem } from './store/receipts';
export { DEFAULT_SERVER_LIMITS, UsageError } from './options';
export type { ServerOptions, ServerLimits, StartOptions, OutputMode, LogLevel } from './options';
export type { Approver, ApprovalRequest } from './approval';
export { cleanName } from './store/paths';
