/**
 * The command line: commander definitions and the scripted commands. With no command, the interactive session
 * starts when both standard input and output are terminals; otherwise help is printed and the exit code is 2.
 *
 * Nothing here exits the process: `run` returns the exit code, or throws for `main.ts` to map.
 */
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_PORT, type Dict } from '@proj/protocol';
import { describeError, ExitCode, exitCodeFor, UsageError } from './errors';
import { runInteractive } from './interactive/menu';
import { streamUi } from './interactive/ui';
import {
  DEFAULT_HOST,
  mustBeFile,
  parseDictData,
  parseFormat,
  parseId,
  readSecret,
  resolveRetry,
  resolveTarget,
  type ConnectionFlags,
} from './options';
import type { Prompter } from './prompts';
import { putDict, putFile, type FileEncryption, type PutResult } from './put';
import { receiptJson, receiptLine } from './receipt-format';
import { Link, type RetryEvent } from './link';
import { looksLikeRecipient } from './encrypt';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  /** Both standard input and standard output are terminals. */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C outside a prompt. */
  signal: AbortSignal;
  /** The prompter for the interactive session (the terminal one in production). */
  prompter: () => Prompter;
}

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

/** Builds the program; `onAction` receives each command's result. */
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
      throw new UsageError('no command given, and the interactive session needs a terminal on standard input and output');
    }
    const target = await resolveTarget(flags, io.env);
    setResult(
      await runInteractive({
        prompter: io.prompter(),
        ui: streamUi(io.stdout),
        defaults: target,
        policy: resolveRetry(flags, io.env),
        signal: io.signal,
        env: io.env,
        progressStream: io.stderr,
      }),
    );
  });

  connectionOptions(
    program
      .command('send-dict')
      .description('send one dictionary given as JSON, encoded as json, xml or binary')
      .addOption(new Option('--format <format>', 'wire format: json, xml or binary (protobuf)').default('json'))
      .option('--data <json>', 'the dictionary, as a JSON object')
      .option('--data-file <file>', 'read the dictionary (a JSON object) from a file; - for standard input')
      .option('--id <id>', 'put id (default: a random UUID); reuse it to retry safely'),
  ).action(async (own: ConnectionFlags & { format: string; data?: string; dataFile?: string; id?: string }) => {
    const flags = withGlobals(program, own);
    const format = parseFormat(flags.format);
    const id = flags.id !== undefined ? parseId(flags.id) : undefined;
    if ((flags.data === undefined) === (flags.dataFile === undefined)) {
      throw new UsageError('give the dictionary with exactly one of --data or --data-file');
    }
    let dict: Dict;
    if (flags.data !== undefined) {
      dict = parseDictData(flags.data, '--data');
    } else {
      const file = flags.dataFile as string;
      if (file !== '-') await mustBeFile(file, '--data-file');
      const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
      dict = parseDictData(text, `--data-file ${file}`);
    }
    const target = await resolveTarget(flags, io.env);
    const link = new Link(target, { policy: resolveRetry(flags, io.env), signal: io.signal, onRetry: retryNotice(io) });
    try {
      const result = await putDict(link, dict, format, id);
      report(io, flags, result);
      setResult(ExitCode.Ok);
    } finally {
      await link.close();
    }
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
      .option('--id <id>', 'put id (one file only; default: a random UUID)'),
  ).action(
    async (
      paths: string[],
      own: ConnectionFlags & { encrypt?: boolean; recipient: string[]; passphraseFile?: string; name?: string; id?: string },
    ) => {
      const flags = withGlobals(program, own);
      if (paths.length > 1 && flags.id !== undefined) throw new UsageError('--id is for one file; every file needs its own id');
      if (paths.length > 1 && flags.name !== undefined) throw new UsageError('--name is for one file');
      const id = flags.id !== undefined ? parseId(flags.id) : undefined;
      if (flags.name !== undefined && flags.name.length === 0) throw new UsageError('--name cannot be empty');
      if (flags.passphraseFile !== undefined && flags.recipient.length > 0) {
        throw new UsageError('choose one way to encrypt: --recipient or --passphrase-file, not both');
      }
      for (const r of flags.recipient) {
        if (!looksLikeRecipient(r)) throw new UsageError(`--recipient must be an age recipient (age1…), found ${JSON.stringify(r.slice(0, 20))}`);
      }
      for (const path of paths) await mustBeFile(path, 'file');
      let encryption: FileEncryption = { kind: 'none' };
      if (flags.passphraseFile !== undefined) {
        encryption = { kind: 'passphrase', passphrase: await readSecret(flags.passphraseFile, '--passphrase-file') };
      } else if (flags.recipient.length > 0) {
        encryption = { kind: 'recipients', recipients: flags.recipient };
      } else if (flags.encrypt) {
        encryption = { kind: 'server' };
      }
      const target = await resolveTarget(flags, io.env);
      const link = new Link(target, { policy: resolveRetry(flags, io.env), signal: io.signal, onRetry: retryNotice(io) });
      let worst: ExitCode = ExitCode.Ok;
      try {
        for (const [i, path] of paths.entries()) {
          try {
            const result = await putFile(link, path, {
              ...(id !== undefined ? { id } : {}),
              ...(flags.name !== undefined ? { name: flags.name } : {}),
              encryption,
              progressStream: io.stderr,
              tuning: tuningFromEnv(io.env),
            });
            report(io, flags, result);
          } catch (err) {
            const code = exitCodeFor(err);
            // With one file, or when the connection is gone for good, the entry point reports it.
            if (paths.length === 1 || code === ExitCode.Connection || code === ExitCode.Interrupted) {
              if (i > 0) io.stderr.write(`not sent: ${paths.slice(i + 1).join(', ') || '(none)'}\n`);
              throw err;
            }
            io.stderr.write(`${path}: ${describeError(err)}\n`);
            if (flags.json) io.stdout.write(`${JSON.stringify(failureJson(path, err))}\n`);
            if (worst === ExitCode.Ok) worst = code;
          }
        }
      } finally {
        await link.close();
      }
      setResult(worst);
    },
  );

  connectionOptions(program.command('ping').description('connect, check that the server answers, and show what it announces')).action(
    async (own: ConnectionFlags) => {
      const flags = withGlobals(program, own);
      const target = await resolveTarget(flags, io.env);
      const link = new Link(target, { policy: { ...resolveRetry(flags, io.env), retries: 0 }, signal: io.signal });
      try {
        const client = await link.open();
        await client.ping();
        const w = client.welcome;
        if (flags.json) {
          io.stdout.write(
            `${JSON.stringify({ ok: true, address: link.address, agent: w.agent, serverId: w.serverId, version: w.version, formats: w.formats, recipient: w.encryption.recipient ?? null, limits: w.limits })}\n`,
          );
        } else {
          io.stdout.write(
            `${link.address} answered: ${w.agent} (server ${w.serverId}, protocol ${w.version}); formats ${w.formats.join(', ')}; ` +
              `${w.encryption.recipient ? `age recipient ${w.encryption.recipient}` : 'no age recipient'}\n`,
          );
        }
        setResult(ExitCode.Ok);
      } finally {
        await link.close();
      }
    },
  );
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
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.Ok;
      // Commander has already printed its message.
      throw new ReportedUsageError(err.message);
    }
    throw err;
  }
  return result;
}

/** A usage error whose message is already on standard error. */
export class ReportedUsageError extends UsageError {
  readonly reported = true;
}

function report(io: Io, flags: ConnectionFlags, result: PutResult): void {
  const line = flags.json ? JSON.stringify(receiptJson(result.receipt, result.sent)) : receiptLine(result.receipt, result.sent);
  io.stdout.write(`${line}\n`);
}

function failureJson(source: string, err: unknown): { ok: false; source: string; code: string; message: string } {
  const code = (err as { code?: unknown }).code;
  return { ok: false, source, code: typeof code === 'string' ? code : 'ERR_CLIENT', message: (err as Error).message ?? String(err) };
}

function retryNotice(io: Io): (event: RetryEvent) => void {
  return ({ attempt, retries, delayMs, error }) => {
    io.stderr.write(
      `connection lost (${describeError(error)}); retry ${attempt} of ${retries} in ${(delayMs / 1000).toFixed(1)} s with the same put id\n`,
    );
  };
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

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Test hook: PROJ_CLIENT_SCRYPT_WORK_FACTOR lowers the passphrase work factor so tests run fast. Undocumented. */
function tuningFromEnv(env: NodeJS.ProcessEnv): { scryptWorkFactor?: number } {
  const n = Number(env.PROJ_CLIENT_SCRYPT_WORK_FACTOR);
  return Number.isInteger(n) && n >= 1 && n <= 22 ? { scryptWorkFactor: n } : {};
}
