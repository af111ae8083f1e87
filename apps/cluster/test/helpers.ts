/** Test helpers: a local cluster on free ports in a temporary run directory, and a raw client through it. */
import { once } from 'node:events';
import * as net from 'node:net';
import { encodeControlFrame, encodeFrame, FrameDecoder, FrameKind, parseServerMessage } from '@proj/protocol/wire';
import type { ServerMessage } from '@proj/protocol/wire';
import { makeTempDir } from '@proj/test-utils';
import { ClusterError, down, findProgram, type ClusterState, type UpOptions, up } from '../src/cluster';
import { PORT_SPAN } from '../src/layout';

/** Why cluster tests cannot run here, or undefined when they can. */
export function missingTools(): string | undefined {
  const missing = ['nats-server', 'haproxy'].filter((p) => findProgram(p) === undefined);
  return missing.length === 0 ? undefined : `${missing.join(' and ')} not installed (README: Tests)`;
}

export interface TestCluster {
  state: ClusterState;
  runDir: string;
  stop(): Promise<void>;
}

/** `up` on a random free base port in a fresh run directory (another base when a port is taken). */
export async function startTestCluster(options: Omit<UpOptions, 'runDir' | 'basePort'> = {}): Promise<TestCluster> {
  const temp = await makeTempDir('proj-cluster-');
  for (let attempt = 0; ; attempt++) {
    const basePort = 20_000 + Math.floor(Math.random() * ((40_000 - PORT_SPAN) / 10)) * 10;
    try {
      const state = await up({ runDir: temp.path, basePort, ...options });
      return {
        state,
        runDir: temp.path,
        stop: async () => {
          await down(temp.path);
          await temp.remove();
        },
      };
    } catch (err) {
      if (attempt < 5 && err instanceof ClusterError && err.code === 'ERR_CLUSTER_PORT') continue;
      await temp.remove();
      throw err;
    }
  }
}

/** A client that writes raw frames and reads the server's messages, and knows its own port. */
export class RawClient {
  readonly socket: net.Socket;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 });
  readonly #inbox: ServerMessage[] = [];
  readonly #waiters: Array<(m: ServerMessage | undefined) => void> = [];
  #ended = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#decoder.push(chunk)) {
        const message = parseServerMessage(frame.payload);
        const waiter = this.#waiters.shift();
        if (waiter) waiter(message);
        else this.#inbox.push(message);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w(undefined);
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  control(message: object): void {
    this.socket.write(encodeControlFrame(message));
  }

  data(bytes: Uint8Array): void {
    const [h, b] = encodeFrame(FrameKind.Data, bytes);
    this.socket.write(Buffer.concat([h, b]));
  }

  next(timeoutMs = 10_000): Promise<ServerMessage | undefined> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message from the server in time')), timeoutMs);
      this.#waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
