/**
 * Server mode: a first handshake (its welcome gives the limits the cases test), then every server case in the
 * order of docs/PROTOCOL.md, one line each as it ends.
 */
import type { Welcome } from '@proj/protocol/wire';
import type { CaseResult } from '../case';
import type { ServerModeOptions } from '../options';
import { runSections } from '../runner';
import type { Vectors } from '../vectors';
import { PutIds } from '../ids';
import type { ServerContext, ServerTarget } from './context';
import { expectMessage } from './expect';
import { RawConnection } from './raw-connection';
import { serverSections } from './sections';
import { hello } from './steps';

/** The server could not be checked at all: nobody listens, or the first hello was refused. */
export class TargetError extends Error {
  readonly code = 'ERR_TARGET';
}

export interface ServerRun {
  options: ServerModeOptions;
  answerMs: number;
  only: readonly string[];
  vectors: Vectors;
  onResult?: (result: CaseResult) => void;
  /** Longest a case may take; default: the longest wait it may make, plus a minute. */
  caseTimeoutMs?: number;
}

export async function runServerCases(run: ServerRun): Promise<CaseResult[]> {
  const { options } = run;
  const target: ServerTarget = { ...options, answerMs: run.answerMs };
  const welcome = await firstWelcome(target);
  const ctx: ServerContext = { target, vectors: run.vectors, ids: new PutIds(), welcome };
  return runSections(serverSections(run.vectors), ctx, {
    only: run.only,
    caseTimeoutMs: run.caseTimeoutMs ?? options.maxWaitMs + 60_000,
    ...(run.onResult ? { onResult: run.onResult } : {}),
  });
}

async function firstWelcome(target: ServerTarget): Promise<Welcome> {
  const ctx = { target };
  const { host, port } = target;
  const conn = await RawConnection.open(host, port, target.answerMs).catch((err: unknown) => {
    throw new TargetError((err as Error).message);
  });
  try {
    await conn.send(hello(ctx));
    return await expectMessage(conn, ctx, 'welcome', 'the welcome');
  } catch (err) {
    const hint = ctx.target.token === undefined ? ' (does it require a token? give --token-file)' : '';
    throw new TargetError(`${host}:${port} did not welcome the kit's hello${hint}: ${(err as Error).message}`);
  } finally {
    conn.destroy();
  }
}
