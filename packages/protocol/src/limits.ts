/**
 * Protocol constants and the default limits a server enforces (docs/PROTOCOL.md §6).
 * A server announces its actual limits in its `welcome`; a client must stay within them.
 */

/** The protocol version this package speaks. */
export const PROTOCOL_VERSION = 1;

/** Versions this package can speak, newest first. */
export const SUPPORTED_VERSIONS: readonly number[] = [1];

/** Default TCP port of the server. */
export const DEFAULT_PORT = 5050;

export interface Limits {
  /** Largest frame payload, in bytes, either direction. Data chunks are frames, so this bounds a chunk. */
  maxFrameBytes: number;
  /** Largest encoded dictionary, in bytes. */
  maxDictBytes: number;
  /** Deepest nesting of a dictionary: the root object is depth 1. */
  maxDictDepth: number;
  /** Largest file, in bytes. */
  maxFileBytes: number;
  /** Milliseconds of silence after which a connection is closed. */
  idleTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxFrameBytes: 1024 * 1024,
  maxDictBytes: 1024 * 1024,
  maxDictDepth: 32,
  maxFileBytes: 4 * 1024 * 1024 * 1024,
  idleTimeoutMs: 60_000,
});

/** Size of data chunks a sender uses by default: the default frame limit (a client caps it at the server's). */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
