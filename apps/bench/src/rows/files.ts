/**
 * Files: a large file sent by our client (in this process, through the library) and stored durably by our
 * server (its own process), against socat copying the same file over loopback into a fsynced file; the same
 * encrypted (our client CLI with `--encrypt`, which encrypts to the server's X25519 recipient before sending)
 * against the `age` CLI encrypting plus socat moving the ciphertext. The server's peak RSS while receiving the
 * plain file is measured on the same server, before any encrypted transfer.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from '@proj/cli-kit';
import { connect } from '@proj/protocol';
import { sha256File } from '@proj/test-utils';
import { socatCopy } from '../baselines/socat';
import type { BenchConfig } from '../config';
import { writeRandomFile } from '../files';
import { builtProgram, CLIENT_MAIN } from '../paths';
import { BenchError, runTimed } from '../proc';
import { startServerProcess, type ServerProcess } from '../server-process';
import { Better, type Row } from '../table';
import { formatRate, MiB } from '../units';

export const FILE_TARGET_RATIO = 0.95;
export const ENCRYPTED_TARGET_RATIO = 1.1;
export const FILE_RSS_TARGET_BYTES = 64 * MiB;

interface Pair {
  oursSeconds: number;
  baseSeconds: number;
  baseRss?: number;
}

export interface FileGroups {
  file: boolean;
  encrypted: boolean;
}

export async function fileRows(config: BenchConfig, groups: FileGroups): Promise<Row[]> {
  const size = config.fileBytes;
  const src = join(config.workDir, 'large.bin');
  config.progress(`files: writing ${formatBytes(size)} of random data`);
  const srcSha = await writeRandomFile(src, size);
  const dataDir = join(config.workDir, 'data-files');
  const server = await startServerProcess({
    dataDir,
    logDir: config.workDir,
    ...(config.cpuProfDir
      ? { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', config.cpuProfDir, '--cpu-prof-name', 'server-files.cpuprofile'] }
      : {}),
  });
  const rows: Row[] = [];
  try {
    if (groups.file) rows.push(...(await plainRows(config, server, src, srcSha, dataDir)));
    if (groups.encrypted) rows.push(await encryptedRow(config, server, src, srcSha, dataDir));
  } finally {
    await server.stop();
    await rm(src, { force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
  return rows;
}

async function plainRows(
  config: BenchConfig,
  server: ServerProcess,
  src: string,
  srcSha: string,
  dataDir: string,
): Promise<Row[]> {
  const size = config.fileBytes;
  const runs: Pair[] = [];
  for (let run = 0; run < config.fileRuns; run++) {
    config.progress(`large file: run ${run + 1}/${config.fileRuns}: socat`);
    const dst = join(config.workDir, 'socat.out');
    const base = await socatCopy(src, dst);
    if ((await sha256File(dst)) !== srcSha) throw new BenchError('ERR_CHECK', 'socat copy differs from the source');
    await rm(dst, { force: true });

    config.progress(`large file: run ${run + 1}/${config.fileRuns}: ours`);
    const start = process.hrtime.bigint();
    const client = await connect({ host: server.host, port: server.port });
    // The library checks the receipt's size and SHA-256 against what it sent; a receipt means fsynced.
    const receipt = await client.sendFile(src, { name: 'large.bin' });
    const oursSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    await client.close();
    const stored = join(dataDir, receipt.path);
    if (receipt.sha256 !== srcSha || (await sha256File(stored)) !== srcSha) {
      throw new BenchError('ERR_CHECK', `the stored file ${receipt.path} differs from the source`);
    }
    await rm(stored, { force: true });
    runs.push({
      oursSeconds,
      baseSeconds: base.seconds,
      ...(base.receiverPeakRssBytes !== undefined ? { baseRss: base.receiverPeakRssBytes } : {}),
    });
  }
  const { peakBytes } = await server.rss();
  const ours = size / Math.min(...runs.map((r) => r.oursSeconds));
  const base = size / Math.min(...runs.map((r) => r.baseSeconds));
  const baseRss = Math.max(...runs.map((r) => r.baseRss ?? Number.NaN));
  const ratio = ours / base;
  return [
    {
      name: `large file ${formatBytes(size)}, stored + fsynced`,
      ours: formatRate(ours),
      baseline: `socat + fsync ${formatRate(base)}`,
      ratio,
      better: Better.Higher,
      target: `ratio ≥ ${FILE_TARGET_RATIO.toFixed(2)}`,
      met: ratio >= FILE_TARGET_RATIO,
      note: `best of ${runs.length}; SHA-256 of the stored file and of socat's copy checked against the source`,
    },
    {
      name: `server peak RSS, receiving ${formatBytes(size)}`,
      ours: formatBytes(peakBytes),
      baseline: Number.isFinite(baseRss) ? `socat receiver ${formatBytes(baseRss)}` : 'socat receiver (no GNU time)',
      ...(Number.isFinite(baseRss) ? { ratio: peakBytes / baseRss } : {}),
      better: Better.Lower,
      target: `≤ ${formatBytes(FILE_RSS_TARGET_BYTES)}`,
      met: peakBytes <= FILE_RSS_TARGET_BYTES,
      note: 'VmHWM of the server process over its whole life (start-up included), read before it stops',
    },
  ];
}

async function encryptedRow(
  config: BenchConfig,
  server: ServerProcess,
  src: string,
  srcSha: string,
  dataDir: string,
): Promise<Row> {
  const size = config.fileBytes;
  const recipient = server.recipient;
  if (recipient === undefined) throw new BenchError('ERR_SERVER_START', 'the server printed no age recipient');
  const clientMain = builtProgram(CLIENT_MAIN);
  const runs: Pair[] = [];
  for (let run = 0; run < config.fileRuns; run++) {
    config.progress(`encrypted file: run ${run + 1}/${config.fileRuns}: age + socat`);
    const ageOut = join(config.workDir, 'cli.age');
    const dst = join(config.workDir, 'socat.age');
    const age = await runTimed('age', ['-r', recipient, '-o', ageOut, src]);
    const copy = await socatCopy(ageOut, dst);
    await rm(ageOut, { force: true });
    await rm(dst, { force: true });

    config.progress(`encrypted file: run ${run + 1}/${config.fileRuns}: ours (client CLI --encrypt)`);
    const ours = await runTimed(process.execPath, [
      clientMain,
      'send-file',
      src,
      '--host',
      server.host,
      '--port',
      String(server.port),
      '--json',
      '--encrypt',
      '--name',
      'large.bin',
    ]);
    const receipt = parseReceipt(ours.stdout);
    const stored = join(dataDir, receipt.path);
    if (!receipt.encrypted || (await sha256File(stored)) !== receipt.sha256) {
      throw new BenchError('ERR_CHECK', `the stored file ${receipt.path} is not the ciphertext the client sent`);
    }
    if (run === 0) {
      // Once: the ciphertext opens with the standard age CLI and the server's identity, to the source's bytes.
      const plain = join(config.workDir, 'decrypted.bin');
      await runTimed('age', ['-d', '-i', join(dataDir, 'identity.txt'), '-o', plain, stored]);
      const ok = (await sha256File(plain)) === srcSha;
      await rm(plain, { force: true });
      if (!ok) throw new BenchError('ERR_CHECK', 'the stored ciphertext does not decrypt to the source');
    }
    await rm(stored, { force: true });
    runs.push({ oursSeconds: ours.seconds, baseSeconds: age.seconds + copy.seconds });
  }
  const ours = size / Math.min(...runs.map((r) => r.oursSeconds));
  const base = size / Math.min(...runs.map((r) => r.baseSeconds));
  const ratio = ours / base;
  return {
    name: `encrypted file ${formatBytes(size)} (X25519)`,
    ours: formatRate(ours),
    baseline: `age + socat + fsync ${formatRate(base)}`,
    ratio,
    better: Better.Higher,
    target: `ratio ≥ ${ENCRYPTED_TARGET_RATIO.toFixed(2)}`,
    met: ratio >= ENCRYPTED_TARGET_RATIO,
    note:
      `best of ${runs.length}; plaintext bytes per second of wall time; ours is the client CLI process from spawn to exit ` +
      '(it encrypts as it sends); the stored ciphertext was decrypted with `age -d` and matched the source',
  };
}

function parseReceipt(stdout: string): { path: string; sha256: string; encrypted: boolean } {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const r = JSON.parse(line) as { path?: unknown; sha256?: unknown; encrypted?: unknown };
    if (typeof r.path === 'string' && typeof r.sha256 === 'string' && typeof r.encrypted === 'boolean') {
      return { path: r.path, sha256: r.sha256, encrypted: r.encrypted };
    }
  } catch {
    // reported below
  }
  throw new BenchError('ERR_CHECK', `the client printed no JSON receipt: ${stdout.slice(-500)}`);
}
