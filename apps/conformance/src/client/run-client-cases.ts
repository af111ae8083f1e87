/**
 * Client mode: a temporary directory for the files the client sends, the command driver (or one a test gives),
 * and every client case in the order of docs/PROTOCOL.md, one line each as it ends.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaseResult } from '../case';
import { PutIds } from '../ids';
import type { ClientModeOptions } from '../options';
import { runSections } from '../runner';
import { DEFAULT_SPEC_DIR, type Vectors } from '../vectors';
import type { ClientContext } from './context';
import { CommandDriver, type ClientDriver } from './driver';
import { CLIENT_SECTIONS } from './sections';

export interface ClientRun {
  /** The commands that run the client; or give `driver`. */
  commands?: ClientModeOptions;
  driver?: ClientDriver;
  answerMs: number;
  only: readonly string[];
  vectors: Vectors;
  specDir?: string;
  onResult?: (result: CaseResult) => void;
}

/** How long one client run may take before it is killed. */
const CLIENT_RUN_MS = 60_000;

export async function runClientCases(run: ClientRun): Promise<CaseResult[]> {
  const driver = run.driver ?? new CommandDriver(run.commands as ClientModeOptions, CLIENT_RUN_MS);
  const workDir = await mkdtemp(join(tmpdir(), 'proj-conformance-'));
  try {
    const ctx: ClientContext = {
      driver,
      answerMs: run.answerMs,
      vectors: run.vectors,
      ids: new PutIds(),
      workDir,
      sampleValueFile: join(run.specDir ?? DEFAULT_SPEC_DIR, 'vectors', 'dict', 'sample.value.json'),
    };
    return await runSections(CLIENT_SECTIONS, ctx, {
      only: run.only,
      caseTimeoutMs: 10 * 60_000,
      ...(run.onResult ? { onResult: run.onResult } : {}),
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
