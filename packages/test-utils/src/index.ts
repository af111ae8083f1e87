/**
 * Private helpers shared by the test suites (and the bench's file checks): temp dirs, file checks, coded errors,
 * a server in a temporary data directory, a pseudo-terminal driver, a NATS JetStream cluster of real processes.
 */
export { makeTempDir } from './temp-dir';
export { codeOf, codeOfRejection } from './codes';
export { startServerInTempDir } from './server-in-temp-dir';
export type { ServerInTempDir } from './server-in-temp-dir';
export { sha256File, sha256Hex, listFiles } from './files';
export { Pty, stripAnsi } from './pty';
export { SPEC_VECTORS_DIR, readWireVectors, specWireVector, wireBytes } from './spec-vectors';
export type { Described, Direction, SpecWireVector, VectorFrame, WireVector } from './spec-vectors';
export type { PtyOptions } from './pty';
export { findNatsServer, natsServerVersion, startNatsCluster } from './nats-cluster';
export type { NatsCluster, NatsClusterOptions, NatsNode } from './nats-cluster';
