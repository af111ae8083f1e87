/**
 * The command line: commander definitions for `serve` (the default), `health`, and the item commands
 * (./commands/item-commands.ts), wired to one module per command (./commands/). Returns an exit code; only
 * ./main.ts exits the process.
 */
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { errorJson, packageVersion } from '@proj/cli-kit';
import { EXIT_OK, EXIT_USAGE, type CliIo, wantsJson } from './cli-io';
import { addItemCommands } from './commands/item-commands';
import { healthCommand } from './health';
import { serveCommand } from './commands/serve';
import { SETTINGS, envName } from './settings';

/** The name the program gives itself in its messages and help (its command on the PATH is `proj-server`). */
export const PROGRAM = 'server';

/** One-letter forms of the common settings (`-p 5050`), by setting key. */
const SHORT_FLAGS: Readonly<Record<string, string>> = { host: '-H', port: '-p', dataDir: '-d', output: '-o' };

export async function runCli(io: CliIo): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command(PROGRAM)
    .description('Receives dictionaries and files from clients and stores them durably.')
    .version(packageVersion(join(__dirname, '..')), '-V, --version', 'print the version and exit')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Commander's own messages (`error: unknown option '--x'`) get the program's name, like ours.
      outputError: (s, write) => write(`${PROGRAM}: ${s}`),
    })
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError();

  const serve = program
    .command('serve', { isDefault: true })
    .description('listen for clients (the default command; its options are below)')
    .addHelpText('after', `\n${envHelp()}`);
  for (const setting of SETTINGS) {
    const short = SHORT_FLAGS[setting.key];
    const long = short ? `${short}, ${setting.flag}` : setting.flag;
    const flags = setting.arg ? `${long} <${setting.arg}>` : long;
    const shown = setting.shownDefault ? ` (default: ${setting.shownDefault})` : '';
    serve.addOption(new Option(flags, `${setting.description}${shown}`));
  }
  serve
    .addOption(new Option('--no-decrypt', 'never open age files'))
    .addOption(new Option('-c, --config <file>', 'JSON config file (keys: the flag names in camelCase)'))
    .addOption(new Option('--no-prompt', 'never ask questions, even on a terminal'))
    // `server sned` reaches serve (the default command) with a word it does not take: told as the unknown command
    // it is, with the nearest one, not as "too many arguments for 'serve'".
    .allowExcessArguments(true)
    .action(async (flags: Record<string, unknown>) => {
      if (serve.args.length > 0) {
        if (program.args[0] === 'serve') serve.error(`error: serve takes no arguments, found '${serve.args[0]}'`);
        (program as unknown as { unknownCommand(): never }).unknownCommand();
      }
      exitCode = await serveCommand(flags, io);
    });
  // `server --help` shows what `server` alone does: serve, with its options.
  program.addHelpText('after', () => `\n${serve.helpInformation()}`);

  addItemCommands(program, io, (code) => (exitCode = code));

  program
    .command('health')
    .description('check that the server answers: connect, handshake, ping (exit 0 when healthy)')
    .option('-H, --host <address>', 'the address it listens on (default: 127.0.0.1; 0.0.0.0 is reached on 127.0.0.1)')
    .option('-p, --port <n>', 'its port (default: 5050)')
    .option('--token-file <file>', 'file holding the token it requires')
    .option('--tls-cert <file>', 'its certificate, when it serves TLS')
    .option('--config <file>', 'JSON config file')
    .option('--timeout <seconds>', 'give up after this long (default: 5)')
    .action(async (flags: Record<string, unknown>) => {
      exitCode = await healthCommand(flags, io);
    });

  try {
    await program.parseAsync(io.argv as string[], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT_OK;
      // Commander has told it in words on standard error; with --json, standard output says it too.
      const message = err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
      if (wantsJson(io.argv)) io.stdout.write(errorJson('ERR_USAGE', message, EXIT_USAGE));
      return EXIT_USAGE;
    }
    throw err;
  }
  return exitCode;
}

function envHelp(): string {
  const lines = SETTINGS.map((s) => `  ${envName(s)}`);
  return [
    'Environment variables (flags win over them; they win over the config file):',
    ...lines,
    '  PROJ_SERVER_CONFIG             the config file, like --config',
  ].join('\n');
}
