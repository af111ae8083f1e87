/**
 * `send-file`: one or more files, plain or encrypted with age, over one link. With several files, a file the
 * server refuses is told and the next one is sent; a connection gone for good ends the command.
 */
import { PassThrough } from 'node:stream';
import { UsageError } from '@proj/cli-kit';
import type { Io } from '../cli-io';
import { looksLikeRecipient } from '../encrypt';
import { describeError, ExitCode, exitCodeFor } from '../errors';
import { Link } from '../link';
import { mustBeFile, parseId, readSecret, resolveRetry, resolveTarget, type ConnectionFlags } from '../options';
import { putFile, type FileEncryption } from '../put';
import { ResumeState } from '../resume-state';
import { spoolStdin, STDIN_NAME, STDIN_PATH, type SpooledStdin } from '../stdin';
import { noticeLine, printReceipt, retryNotice } from './print';

export interface SendFileFlags extends ConnectionFlags {
  encrypt?: boolean;
  recipient: string[];
  passphraseFile?: string;
  name?: string;
  id?: string;
  /** `--no-resume` sets it false: no state kept, and the server's partial of this id is not continued. */
  resume?: boolean;
}

export async function sendFileCommand(paths: string[], flags: SendFileFlags, io: Io): Promise<ExitCode> {
  if (paths.length > 1 && flags.id !== undefined)
    throw new UsageError('--id is for one file; every file needs its own id');
  if (paths.length > 1 && flags.name !== undefined) throw new UsageError('--name is for one file');
  const id = flags.id !== undefined ? parseId(flags.id) : undefined;
  if (flags.name !== undefined && flags.name.length === 0) throw new UsageError('--name cannot be empty');
  if (flags.passphraseFile !== undefined && flags.recipient.length > 0) {
    throw new UsageError('choose one way to encrypt: --recipient or --passphrase-file, not both');
  }
  for (const r of flags.recipient) {
    if (!looksLikeRecipient(r))
      throw new UsageError(`--recipient must be an age recipient (age1…), found ${JSON.stringify(r.slice(0, 20))}`);
  }
  if (paths.filter((p) => p === STDIN_PATH).length > 1) throw new UsageError('- (standard input) can be sent once');
  for (const path of paths) if (path !== STDIN_PATH) await mustBeFile(path, 'file');
  let encryption: FileEncryption = { kind: 'none' };
  if (flags.passphraseFile !== undefined) {
    encryption = { kind: 'passphrase', passphrase: await readSecret(flags.passphraseFile, '--passphrase-file') };
  } else if (flags.recipient.length > 0) {
    encryption = { kind: 'recipients', recipients: flags.recipient };
  } else if (flags.encrypt) {
    encryption = { kind: 'server' };
  }
  const target = await resolveTarget(flags, io.env);
  // Standard input is read whole before connecting (`send-file -`, as `curl -T -`): see ../stdin.ts.
  const stdin: SpooledStdin | undefined = paths.includes(STDIN_PATH) ? await spoolStdin(io.stdin) : undefined;
  const resume = flags.resume !== false;
  const link = new Link(target, {
    policy: resolveRetry(flags, io.env),
    signal: io.signal,
    onRetry: retryNotice(io, flags),
    onNotice: noticeLine(io),
    resume,
  });
  // Kept between runs so that a second send-file after a crash resumes (docs/CLIENT.md, "Resuming").
  const state = resume ? new ResumeState(io.env) : undefined;
  let worst: ExitCode = ExitCode.Ok;
  try {
    for (const [i, path] of paths.entries()) {
      const fromStdin = path === STDIN_PATH && stdin !== undefined;
      try {
        const name = flags.name ?? (fromStdin ? STDIN_NAME : undefined);
        const result = await putFile(link, fromStdin ? stdin.path : path, {
          ...(id !== undefined ? { id } : {}),
          ...(name !== undefined ? { name } : {}),
          encryption,
          // --quiet: a stream that is not a terminal, so no progress bar is drawn.
          progressStream: flags.quiet ? (new PassThrough().resume() as unknown as NodeJS.WriteStream) : io.stderr,
          tuning: tuningFromEnv(io.env),
          ...(state ? { state } : {}),
        });
        printReceipt(io, flags, fromStdin ? { ...result, sent: { ...result.sent, source: STDIN_PATH } } : result);
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
    await stdin?.remove();
  }
  return worst;
}

function failureJson(source: string, err: unknown): { ok: false; source: string; code: string; message: string } {
  const code = (err as { code?: unknown }).code;
  return {
    ok: false,
    source,
    code: typeof code === 'string' ? code : 'ERR_CLIENT',
    message: (err as Error).message ?? String(err),
  };
}

/** Test hook: PROJ_CLIENT_SCRYPT_WORK_FACTOR lowers the passphrase work factor so tests run fast. Undocumented. */
function tuningFromEnv(env: NodeJS.ProcessEnv): { scryptWorkFactor?: number } {
  const n = Number(env.PROJ_CLIENT_SCRYPT_WORK_FACTOR);
  return Number.isInteger(n) && n >= 1 && n <= 22 ? { scryptWorkFactor: n } : {};
}
