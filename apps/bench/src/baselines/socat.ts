/**
 * The plain baseline for a file: `socat` copies it over loopback TCP into a file, and the copy is then fsynced
 * (our server acknowledges only fsynced files, so the baseline pays for the same durability):
 *
 *   socat -u TCP-LISTEN:P,bind=127.0.0.1,reuseaddr OPEN:dst,creat,trunc     (receiver, started first)
 *   socat -u FILE:src TCP:127.0.0.1:P                                       (sender)
 *   fsync(dst)
 *
 * Timed from the sender's spawn to the end of the fsync. The receiver's peak RSS comes from GNU time.
 */
import { readFile } from 'node:fs/promises';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fsyncFile } from '../files';
import { BenchError, runTimed } from '../proc';

export interface CopyResult {
  seconds: number;
  /** The receiving socat's peak RSS, when GNU time is there. */
  receiverPeakRssBytes?: number;
}

export async function socatCopy(src: string, dst: string): Promise<CopyResult> {
  const port = await freePort();
  const receiver = runTimed('socat', ['-u', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `OPEN:${dst},creat,trunc`]);
  // Keep a failure of the receiver from going unhandled while we wait for it to listen.
  receiver.catch(() => undefined);
  await waitListening(port, 5_000);
  const start = process.hrtime.bigint();
  await runTimed('socat', ['-u', `FILE:${src}`, `TCP:127.0.0.1:${port}`]);
  const received = await receiver;
  await fsyncFile(dst);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, ...(received.peakRssBytes !== undefined ? { receiverPeakRssBytes: received.peakRssBytes } : {}) };
}

/** A port that was free a moment ago (bound on port 0 and released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Waits until something listens on 127.0.0.1:`port`, by reading /proc/net/tcp (state 0A is LISTEN), so that the
 * check does not take the receiver's one connection.
 */
async function waitListening(port: number, timeoutMs: number): Promise<void> {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const table = await readFile('/proc/net/tcp', 'utf8');
    if (table.split('\n').some((line) => line.includes(` ${want} `) && / 0A /.test(line))) return;
    await sleep(5);
  }
  throw new BenchError('ERR_TIMEOUT', `socat did not listen on port ${port} within ${timeoutMs} ms`);
}
