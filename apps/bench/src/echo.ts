/**
 * The echo baseline from the benchmark's side: start ./echo-server.ts as a process, and a minimal client that
 * sends one frame and waits for it to come back.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { once } from 'node:events';
import * as net from 'node:net';
import { join } from 'node:path';
import { BenchError, freshLogFile, readRss, stop, waitForLine } from './proc';

export interface EchoProcess {
  port: number;
  pid: number;
  rss(): Promise<{ peakBytes: number; currentBytes: number }>;
  stop(): Promise<void>;
}

export async function startEchoProcess(logDir: string): Promise<EchoProcess> {
  const outFile = freshLogFile(logDir, 'echo', 'out');
  const out = openSync(outFile, 'w');
  const child = spawn(process.execPath, [join(__dirname, 'echo-server.js')], { stdio: ['ignore', out, 'inherit'] });
  closeSync(out);
  const m = await waitForLine(outFile, /listening on 127\.0\.0\.1:(\d+)/, child, 10_000);
  const pid = child.pid;
  if (pid === undefined) throw new BenchError('ERR_ECHO_START', 'the echo server has no pid');
  return {
    port: Number(m[1]),
    pid,
    rss: () => readRss(pid),
    stop: async () => {
      await stop(child);
    },
  };
}

/** One connection to the echo server: `roundTrip()` sends the frame and resolves when all of it is back. */
export class EchoClient {
  #socket: net.Socket;
  #frame: Buffer;
  #got = 0;
  #done: (() => void) | undefined;

  private constructor(socket: net.Socket, payload: Uint8Array) {
    this.#socket = socket;
    this.#frame = Buffer.alloc(5 + payload.length);
    this.#frame.writeUInt32BE(payload.length, 0);
    this.#frame[4] = 0x02;
    this.#frame.set(payload, 5);
    socket.on('data', (chunk: Buffer) => {
      this.#got += chunk.length;
      if (this.#got >= this.#frame.length) {
        this.#got -= this.#frame.length;
        const done = this.#done;
        this.#done = undefined;
        done?.();
      }
    });
  }

  static async connect(port: number, payload: Uint8Array): Promise<EchoClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    socket.setNoDelay(true);
    return new EchoClient(socket, payload);
  }

  roundTrip(): Promise<void> {
    return new Promise((resolve) => {
      this.#done = resolve;
      this.#socket.write(this.#frame);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** A bare socket that connects and then stays silent: an idle connection for the memory baseline. */
export async function idleSocket(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  return socket;
}
