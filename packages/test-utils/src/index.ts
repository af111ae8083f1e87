/** Private helpers shared by the test suites: temp dirs, file checks, a pseudo-terminal driver. */
export { makeTempDir } from './temp-dir';
export { sha256File, sha256Hex, listFiles } from './files';
export { Pty, stripAnsi } from './pty';
export type { PtyOptions } from './pty';
