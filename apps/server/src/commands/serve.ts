/**
 * `serve` (the default command): merges flags, environment and the config file (../config.ts), asks for what is
 * missing when on a terminal (../prompts.ts), checks that it can listen where asked (../listen-check.ts) before it
 * touches the data directory, and serves until the first SIGINT or SIGTERM, after which it stops cleanly and
 * exits 0.
 */
import { resolve } from 'node:path';
import { EXIT_OK, type CliIo } from '../cli-io';
import { gatherOptions } from '../config';
import { checkListen, listenError } from '../listen-check';
import { DEFAULTS, type LogLevel, type OutputMode } from '../options';
import { askStartup, type StartupQuestion } from '../prompts';
import { startServer } from '../server';

const STARTUP_QUESTIONS: readonly StartupQuestion[] = ['host', 'port', 'dataDir', 'output', 'decrypt'];

/** Codes of a listen that failed: told in words (../listen-check.ts), not as the system's message. */
const LISTEN_CODES: ReadonlySet<string> = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'EPERM', 'ENOTFOUND']);

export async function serveCommand(flags: Record<string, unknown>, io: CliIo): Promise<number> {
  const { options, set } = await gatherOptions({
    flags,
    env: io.env,
    cwd: io.cwd,
    defaultDataDir: io.defaultDataDir,
    ...(typeof flags.config === 'string' ? { configFile: flags.config } : {}),
  });
  const interactive = Boolean(io.stdin.isTTY && io.stdout.isTTY) && flags.prompt !== false;
  const missing = STARTUP_QUESTIONS.filter((q) => !set.has(q));
  if (interactive && missing.length > 0) {
    const answers = await askStartup(missing, {
      host: options.host ?? DEFAULTS.host,
      port: options.port ?? DEFAULTS.port,
      dataDir: options.dataDir,
      output: options.output ?? defaultOutput(io.stdout.isTTY === true),
      decrypt: options.decrypt ?? DEFAULTS.decrypt,
    });
    Object.assign(options, answers);
    if (answers.dataDir !== undefined) options.dataDir = resolve(io.cwd, answers.dataDir);
  }
  // Where nobody chose, items' contents are shown only at a terminal (docs/SERVER.md, "What the server prints").
  options.output ??= defaultOutput(io.stdout.isTTY === true);
  const host = options.host ?? DEFAULTS.host;
  const port = options.port ?? DEFAULTS.port;
  // Before the data directory is created and the identity generated: a taken port is told, and nothing is left.
  if (port !== 0) await checkListen(host, port);
  // At a terminal, JSON info lines on stderr would interleave with the readable lines on stdout: warnings only,
  // unless --log-level (or its variable or config key) says otherwise.
  const logLevel = options.logLevel ?? defaultLogLevel(io.stderr.isTTY === true);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ ...options, logLevel, stdout: io.stdout });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && LISTEN_CODES.has(code)) throw listenError(err, host, port);
    throw err;
  }
  const signal = await io.waitForSignal();
  io.stdout.write(`${signal}: shutting down\n`);
  await server.close();
  return EXIT_OK;
}

/** The log level when none is configured: `warn` when stderr is a terminal, `info` otherwise. */
export function defaultLogLevel(stderrIsTTY: boolean): LogLevel {
  return stderrIsTTY ? 'warn' : DEFAULTS.logLevel;
}

/**
 * `--output` when nobody chose: `both` at a terminal (the operator watches); `file` otherwise (journald, a pipe, a
 * log file), so that no item's content, decrypted or not, lands in a log nobody asked it to reach.
 */
export function defaultOutput(stdoutIsTTY: boolean): OutputMode {
  return stdoutIsTTY ? DEFAULTS.output : 'file';
}
