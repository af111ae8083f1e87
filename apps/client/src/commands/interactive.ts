/** No command, at a terminal: the interactive session (../interactive/menu.ts), starting from the flags' target. */
import type { Io } from '../cli-io';
import type { ExitCode } from '../errors';
import { runInteractive } from '../interactive/menu';
import { streamUi, useColor } from '../interactive/ui';
import { resolveRetry, resolveTarget, type ConnectionFlags } from '../options';

export async function interactiveCommand(
  flags: ConnectionFlags,
  io: Io,
  given: { host: boolean; port: boolean } = { host: false, port: false },
): Promise<ExitCode> {
  const target = await resolveTarget(flags, io.env);
  return runInteractive({
    prompter: io.prompter(),
    ui: streamUi(io.stdout, useColor(io.env, io.stdout)),
    defaults: target,
    given,
    policy: resolveRetry(flags, io.env),
    signal: io.signal,
    env: io.env,
    progressStream: io.stderr,
  });
}
