/**
 * Resume (issue 15, docs/PROTOCOL.md §4 "Resuming"): a large file sent whole by the library client, against the
 * same file cut at 50 % (the call aborted once half its bytes are on the socket) and then resumed by a new client
 * under the same put id. The resume is timed from the second `sendFile` to its receipt: asking the server, checking
 * the prefix it holds (hashed on from the state the cut send kept in this process, docs/CLIENT.md "Resuming"),
 * sending the rest, and the server's fsync. Target: at most 0.6 of the whole send. `resume-probe.js` runs the same
 * steps with CPU times, for a busy machine.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from '@proj/cli-kit';
import { connect, type ResumeEvent } from '@proj/protocol';
import { sha256File } from '@proj/test-utils';
import type { BenchConfig } from '../config';
import { writeRandomFile } from '../files';
import { BenchError } from '../proc';
import { startServerProcess } from '../server-process';
import { Better, type Row } from '../table';
import { formatSeconds } from '../units';

export const RESUME_TARGET_RATIO = 0.6;

interface Run {
  wholeSeconds: number;
  resumeSeconds: number;
  heldBytes: number;
}

export async function resumeRows(config: BenchConfig): Promise<Row[]> {
  const size = config.fileBytes;
  const src = join(config.workDir, 'resume.bin');
  config.progress(`resume: writing ${formatBytes(size)} of random data`);
  const srcSha = await writeRandomFile(src, size);
  const dataDir = join(config.workDir, 'data-resume');
  const server = await startServerProcess({ dataDir, logDir: config.workDir });
  const runs: Run[] = [];
  try {
    for (let run = 0; run < config.fileRuns; run++) {
      config.progress(`resume: run ${run + 1}/${config.fileRuns}: whole`);
      let start = process.hrtime.bigint();
      const whole = await connect({ host: server.host, port: server.port });
      const wholeReceipt = await whole.sendFile(src, { id: `whole-${run}`, name: 'resume.bin' });
      const wholeSeconds = Number(process.hrtime.bigint() - start) / 1e9;
      await whole.close();
      await check(join(dataDir, wholeReceipt.path), wholeReceipt.sha256, srcSha);

      config.progress(`resume: run ${run + 1}/${config.fileRuns}: cut at 50 %, then resumed`);
      const id = `cut-${run}`;
      await sendHalf(server, src, id, size);
      start = process.hrtime.bigint();
      const resumer = await connect({ host: server.host, port: server.port });
      let held: ResumeEvent | undefined;
      resumer.on('resume', (e) => {
        held = e;
      });
      const receipt = await resumer.sendFile(src, { id, name: 'resume.bin' });
      const resumeSeconds = Number(process.hrtime.bigint() - start) / 1e9;
      await resumer.close();
      if (held === undefined) throw new BenchError('ERR_CHECK', 'the second send did not resume');
      await check(join(dataDir, receipt.path), receipt.sha256, srcSha);
      runs.push({ wholeSeconds, resumeSeconds, heldBytes: held.offset });
    }
  } finally {
    await server.stop();
    await rm(src, { force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
  const best = runs.reduce((a, b) => (b.resumeSeconds / b.wholeSeconds < a.resumeSeconds / a.wholeSeconds ? b : a));
  const ratio = best.resumeSeconds / best.wholeSeconds;
  return [
    {
      name: `resuming a ${formatBytes(size)} file cut at 50 %`,
      ours: formatSeconds(best.resumeSeconds),
      baseline: `sent whole ${formatSeconds(best.wholeSeconds)}`,
      ratio,
      better: Better.Lower,
      target: `ratio ≤ ${RESUME_TARGET_RATIO.toFixed(2)}`,
      met: ratio <= RESUME_TARGET_RATIO,
      note:
        `best of ${runs.length}; the server held ${formatBytes(best.heldBytes)} durably when the cut send was resumed; ` +
        'the resume (same process) hashes on from the SHA-256 state the cut send kept, checks the prefix against ' +
        'the server’s SHA-256 and sends the rest; both stored files checked against the source',
    },
  ];
}

async function check(stored: string, receiptSha: string, srcSha: string): Promise<void> {
  if (receiptSha !== srcSha || (await sha256File(stored)) !== srcSha) {
    throw new BenchError('ERR_CHECK', `the stored file ${stored} differs from the source`);
  }
  await rm(stored, { force: true });
}

/**
 * Sends `src` under `id` and cuts the send once half of its `size` bytes are on the socket (the call aborted, the
 * connection destroyed), leaving the server a partial to resume.
 */
export async function sendHalf(server: { host: string; port: number }, src: string, id: string, size: number) {
  const cutter = await connect({ host: server.host, port: server.port });
  const controller = new AbortController();
  await cutter
    .sendFile(src, {
      id,
      name: 'resume.bin',
      signal: controller.signal,
      onProgress: ({ sent }) => {
        if (sent >= size / 2) controller.abort();
      },
    })
    .then(
      () => {
        throw new BenchError('ERR_CHECK', 'the cut send finished instead of being cut');
      },
      (err: { code?: string }) => {
        if (err.code !== 'ERR_ABORTED') throw err;
      },
    );
  cutter.destroy();
}
