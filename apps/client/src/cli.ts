/**
 * The command line: commander definitions, wired to one module per command (./commands/). With no command, the
 * interactive session starts when both standard input and output are terminals; otherwise help is printed and
 * the exit code is 2.
 *
 * Nothing here exits the process: `run` returns the exit code, or throws for `main.ts` to map.
 */
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '@proj/cli-kit';
import { DEFAULT_PORT } from '@proj/protocol';
import type { Io } from './cli-io';
import { interactiveCommand } from './commands/interactive';
import { pingCommand } from './commands/ping';
import { sendDictCommand, type SendDictFlags } from './commands/send-dict';
import { sendFileCommand, type SendFileFlags } from './commands/send-file';
import { ExitCode, ReportedUsageError } from './errors';
import { DEFAULT_HOST, type ConnectionFlags } from './options';

export const EXIT_CODES_HELP = `
Exit codes:
  0    the server acknowledged every item and each receipt matched what was sent
  1    any other failure (a local file that cannot be read, an encryption failure)
  2    usage error: bad flags, --data that is not a JSON object, a file that does not exist
  3    connection failure: nobody listens, timeout, or the connection was lost and the retries ran out
  4    the server refused (its ERR_… code is printed)
  5    a receipt did not match what was sent (size or SHA-256)
  130  interrupted with Ctrl-C

Environment: PROJ_HOST, PROJ_PORT (defaults for --host, --port). Full guide: docs/CLIENT.md`;

function connectionOptions(command: Command): Command {
  return command
    .option('--host <host>', `server host (env PROJ_HOST; default ${DEFAULT_HOST})`)
    .option('--port <port>', `server port (env PROJ_PORT; default ${DEFAULT_PORT})`)
    .option('--token-file <file>', 'read the access token from this file')
    .option('--tls', 'connect with TLS (system CAs)')
    .option('--ca <file>', 'connect with TLS, trusting this CA certificate (PEM)')
    .option('--timeout <seconds>', 'seconds to wait to connect and for each answer (default 30)')
    .option('--retries <n>', 'reconnect and resend up to n times when the connection is lost (default 5)')
    .option('--json', 'print each receipt as one JSON line on standard output');
}

/** Builds the program; `setResult` receives each command's exit code. */
export function buildProgram(io: Io, setResult: (code: ExitCode) => void): Command {
  const program = new Command('client')
    .description('Send typed dictionaries and files to a server. With no command: an interactive session.')
    .exitOverride()
    // Connection flags are accepted before the command (`client --port 1 send-dict`) and after it; the later wins.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP);
  connectionOptions(program);
  program.action(async (flags: ConnectionFlags) => {
    if (!io.interactive) {
      program.outputHelp({ error: true });
      throw new UsageError(
        'no command given, and the interactive session needs a terminal on standard input and output',
      );
    }
    setResult(await interactiveCommand(flags, io));
  });

  connectionOptions(
    program
      .command('send-dict')
      .description('send one dictionary given as JSON, encoded as json, xml or binary')
      .addOption(new Option('--format <format>', 'wire format: json, xml or binary (protobuf)').default('json'))
      .option('--data <json>', 'the dictionary, as a JSON object')
      .option('--data-file <file>', 'read the dictionary (a JSON object) from a file; - for standard input')
      .option('--id <id>', 'put id (default: a random UUID); reuse it to retry safely'),
  ).action(async (own: SendDictFlags) => {
    setResult(await sendDictCommand(withGlobals(program, own), io));
  });

  connectionOptions(
    program
      .command('send-file')
      .description('send one or more files, optionally encrypted with age')
      .argument('<paths...>', 'files to send')
      .option('--encrypt', "encrypt to the server's age recipient (from its welcome)")
      .option('--recipient <age1…>', 'encrypt to this age recipient instead (repeatable)', collect, [] as string[])
      .option('--passphrase-file <file>', 'encrypt with the passphrase in this file')
      .option('--name <name>', 'name to give the server (one file only; default: the file name)')
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
  return program;
}

/** Runs the client with `argv` (without node and the script) and returns the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<ExitCode> {
  let result: ExitCode = ExitCode.Ok;
  const program = buildProgram(io, (code) => {
    result = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return ExitCode.Ok;
      // Commander has already printed its message.
      throw new ReportedUsageError(err.message);
    }
    throw err;
  }
  return result;
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
