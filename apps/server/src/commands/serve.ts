/**
 * `serve` (the default command): merges flags, environment and the config file (../config.ts), asks for what is
 * missing when on a terminal (../prompts.ts), and serves until the first SIGINT or SIGTERM.
 */
import { resolve } from 'node:path';
import { EXIT_OK, type CliIo } from '../cli-io';
import { gatherOptions } from '../config';
import { DEFAULTS, type LogLevel, type OutputMode } from '../options';
import { askStartup, type StartupQuestion } from '../prompts';
import { startServer } from '../server';

const STARTUP_QUESTIONS: readonly StartupQuestion[] = ['host', 'port', 'dataDir', 'output', 'decrypt'];

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
      output: (options.output ?? DEFAULTS.output) as OutputMode,
      decrypt: options.decrypt ?? DEFAULTS.decrypt,
    });
    Object.assign(options, answers);
    if (answers.dataDir !== undefined) options.dataDir = resolve(io.cwd, answers.dataDir);
  }
  // At a terminal, JSON info lines on stderr would interleave with the readable lines on stdout: warnings only,
  // unless --log-level (or its variable or config key) says otherwise.
  const logLevel = options.logLevel ?? defaultLogLevel(io.stderr.isTTY === true);
  const server = await startServer({ ...options, logLevel, stdout: io.stdout });
  const signal = await io.waitForSignal();
  io.stdout.write(`${signal}: shutting down\n`);
  await server.close();
  return EXIT_OK;
}

/** The log level when none is configured: `warn` when stderr is a terminal, `info` otherwise. */
export function defaultLogLevel(stderrIsTTY: boolean): LogLevel {
  return stderrIsTTY ? 'warn' : DEFAULTS.logLevel;
}
