/** Private helpers both command lines (and the bench) share: the usage error, number parsing, byte sizes. */
export { UsageError } from './usage-error';
export { parseCount, parsePort } from './numbers';
export type { CountOptions, PortOptions, Wording } from './numbers';
export { formatBytes } from './bytes';
export type { FormatBytesOptions } from './bytes';
