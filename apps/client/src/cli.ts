/**
 * The command line: commander definitions, wired to one module per command (./commands/). With no command, the
 * interactive session starts when both standard input and output are terminals; otherwise help is printed and
 * the exit code is 2.
 *
 * Nothing here exits the process: `run` tells every failure (one `client: error: …` line on standard error, and
 * with `--json` one JSON line on standard output) and returns the exit code for `main.ts`.
 */
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { errorJson, errorLine, packageVersion, UsageError } from '@proj/cli-kit';
import { DEFAULT_PORT } from '@proj/protocol';
import type { Io } from './cli-io';
import { interactiveCommand } from './commands/interactive';
import { pingCommand } from './commands/ping';
import { sendDictCommand, type SendDictFlags } from './commands/send-dict';
import { sendFileCommand, type SendFileFlags } from './commands/send-file';
import { describeError, ExitCode, exitCodeFor, jsonCodeFor, ReportedUsageError } from './errors';
import { DEFAULT_HOST, type ConnectionFlags } from './options';

/** The name the program gives itself in its messages and help (its command on the PATH is `proj-client`). */
export const PROGRAM = 'client';

export const EXIT_CODES_HELP = `
Exit codes:
  0    the server acknowledged every item and each receipt matched what was sent
  1    any other failure (a file that fails while it is read, an encryption failure)
  2    usage error: bad flags, --data that is not a JSON object, a file that does not exist or cannot be read
  3    connection failure: nobody listens, timeout, or the connection was lost and the retries ran out
  4    the server refused (its ERR_… code is printed)
  5    a receipt did not match what was sent (size or SHA-256)
  130  interrupted with Ctrl-C

Environment: PROJ_HOST, PROJ_PORT (defaults for --host, --port); NO_COLOR. Full guide: docs/CLIENT.md`;

function connectionOptions(command: Command): Command {
  return command
    .option('-H, --host <host>', `server host (env PROJ_HOST; default ${DEFAULT_HOST})`)
    .option('-p, --port <port>', `server port (env PROJ_PORT; default ${DEFAULT_PORT})`)
    .option('--token-file <file>', 'read the access token from this file')
    .option('--tls', 'connect with TLS (system CAs)')
    .option('--ca <file>', 'connect with TLS, trusting this CA certificate (PEM)')
    .option('--timeout <seconds>', 'seconds to wait to connect and for each answer (default 30)')
    .option('--retries <n>', 'reconnect and resend up to n times when the connection is lost (default 5)')
    .option('-j, --json', 'print each receipt, and a failure, as one JSON line on standard output')
    .option('-q, --quiet', 'print nothing but errors (no receipt line, progress bar or retry notice)');
}

/** Builds the program; `setResult` receives each command's exit code. */
export function buildProgram(io: Io, setResult: (code: ExitCode) => void): Command {
  const program = new Command(PROGRAM)
    .description('Send typed dictionaries and files to a server. With no command: an interactive session.')
    .version(packageVersion(join(__dirname, '..')), '-V, --version', 'print the version and exit')
    .exitOverride()
    // Connection flags are accepted before the command (`client --port 1 send-dict`) and after it; the later wins.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Commander's own messages (`error: unknown option '--x'`) get the program's name, like ours.
      outputError: (s, write) => write(`${PROGRAM}: ${s}`),
    })
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError()
    .addHelpText('after', EXIT_CODES_HELP);
  connectionOptions(program);

  connectionOptions(
    program
      .command('send-dict')
      .description('send one dictionary given as JSON, encoded as json, xml or binary')
      .addOption(new Option('-f, --format <format>', 'wire format: json, xml or binary (protobuf)').default('json'))
      .option('-d, --data <json>', 'the dictionary, as a JSON object')
      .option('--data-file <file>', 'read the dictionary (a JSON object) from a file; - for standard input')
      .option('--id <id>', 'put id (default: a random UUID); reuse it to retry safely'),
  ).action(async (own: SendDictFlags) => {
    setResult(await sendDictCommand(withGlobals(program, own), io));
  });

  connectionOptions(
    program
      .command('send-file')
      .description('send one or more files, optionally encrypted with age; - reads standard input')
      .argument('<paths...>', 'files to send; - for standard input (name it with --name)')
      .option('-e, --encrypt', "encrypt to the server's age recipient (from its welcome)")
      .option('--recipient <age1…>', 'encrypt to this age recipient instead (repeatable)', collect, [] as string[])
      .option('--passphrase-file <file>', 'encrypt with the passphrase in this file')
      .option('-n, --name <name>', 'name to give the server (one file only; default: the file name, or "stdin")')
      .option('--id <id>', 'put id (one file only; default: a random UUID)')
      .option('--no-resume', 'send from zero: keep no state, and drop what the server holds of a cut send'),
  ).action(async (paths: string[], own: SendFileFlags) => {
    setResult(await sendFileCommand(paths, withGlobals(program, own), io));
  });

  connectionOptions(
    program.command('ping').description('connect, check that the server answers, and show what it announces'),
  ).action(async (own: ConnectionFlags) => {
    setResult(await pingCommand(withGlobals(program, own), io));
  });

  // The program itself takes no arguments: a word that is not a command is a mistyped one (`sned-file`), told as
  // such with the nearest command, not as "too many arguments". Set after the commands so they keep the default.
  program.allowExcessArguments(true);
  program.action(async (flags: ConnectionFlags) => {
    if (program.args.length > 0) unknownCommand(program);
    if (!io.interactive) {
      program.outputHelp({ error: true });
      throw new UsageError(
        'no command given, and the interactive session needs a terminal on standard input and output',
      );
    }
    setResult(await interactiveCommand(flags, io, givenConnection(program, io.env)));
  });
  return program;
}

/**
 * Runs the client with `argv` (without node and the script), tells a failure, and returns the exit code: one
 * `client: error: …` line on standard error, and with `--json` also `{"ok":false,"code":…}` on standard output.
 */
export async function run(argv: readonly string[], io: Io): Promise<ExitCode> {
  let result: ExitCode = ExitCode.Ok;
  const program = buildProgram(io, (code) => {
    result = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result;
  } catch (err) {
    if (
      err instanceof CommanderError &&
      (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
    )
      return ExitCode.Ok;
    // Commander has already printed its message.
    const failure = err instanceof CommanderError ? new ReportedUsageError(err.message) : err;
    return report(failure, io, wantsJson(argv));
  }
}

/** Tells `err` and returns its exit code. */
function report(err: unknown, io: Io, json: boolean): ExitCode {
  const code = io.signal.aborted ? ExitCode.Interrupted : exitCodeFor(err);
  const message = code === ExitCode.Interrupted ? 'interrupted' : describeError(err);
  if (!(err instanceof ReportedUsageError)) io.stderr.write(errorLine(PROGRAM, message));
  if (json) {
    const plain = (
      err instanceof ReportedUsageError ? err.message.replace(/^error: /, '') : String((err as Error).message)
    ).replace(/\s*\n\s*/g, ' ');
    io.stdout.write(errorJson(jsonCodeFor(err, code), plain ?? String(err), code));
  }
  if (code === ExitCode.Failure && io.env.PROJ_CLIENT_DEBUG && err instanceof Error) io.stderr.write(`${err.stack}\n`);
  return code;
}

/** `--json` (or `-j`) among the options, before any `--`. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const options = end === -1 ? argv : argv.slice(0, end);
  return options.includes('--json') || options.includes('-j');
}

/** Commander's "unknown command 'x'" with the nearest command name (its suggestion). */
function unknownCommand(program: Command): never {
  (program as unknown as { unknownCommand(): never }).unknownCommand();
  throw new UsageError(`unknown command '${program.args[0]}'`);
}

/** Which of host and port the command line or environment gave, so the interactive session does not ask again. */
function givenConnection(program: Command, env: NodeJS.ProcessEnv): { host: boolean; port: boolean } {
  const given = (name: string, variable: string): boolean =>
    program.getOptionValueSource(name) === 'cli' || Boolean(env[variable]);
  return { host: given('host', 'PROJ_HOST'), port: given('port', 'PROJ_PORT') };
}

/** The program's connection flags, overridden by those given after the command. */
function withGlobals<T extends ConnectionFlags>(program: Command, own: T): T {
  const merged: Record<string, unknown> = { ...program.opts<ConnectionFlags>() };
  for (const [key, value] of Object.entries(own)) if (value !== undefined) merged[key] = value;
  return merged as T;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
