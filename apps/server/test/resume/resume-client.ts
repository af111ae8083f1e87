/**
 * A raw client for the resume tests: frames out, the server's messages in, parsed as a client that negotiated
 * `resume` parses them (docs/PROTOCOL.md §4, "Resuming"), and the bytes of data frames it sent counted.
 */
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import {
  encodeControlFrame,
  encodeFrame,
  FrameDecoder,
  FrameKind,
  parseServerMessage,
  RESUME_CAPABILITY,
  type ServerMessage,
} from '@proj/protocol/wire';

const RESUME = new Set([RESUME_CAPABILITY]);

export class ResumeClient {
  readonly socket: net.Socket;
  /** Payload bytes of the data frames this client wrote. */
  dataBytes = 0;
  #decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 });
  #inbox: ServerMessage[] = [];
  #waiters: Array<(m: ServerMessage | undefined) => void> = [];
  #ended = false;

  private constructor(socket: net.Socket, negotiated: boolean) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#decoder.push(chunk)) {
        const msg = parseServerMessage(frame.payload, negotiated ? { capabilities: RESUME } : {});
        const w = this.#waiters.shift();
        if (w) w(msg);
        else this.#inbox.push(msg);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w(undefined);
    });
  }

  /** Connects and completes the handshake, asking for `resume` unless `capabilities` says otherwise. */
  static async welcomed(port: number, capabilities: string[] = [RESUME_CAPABILITY]): Promise<ResumeClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const c = new ResumeClient(socket, capabilities.includes(RESUME_CAPABILITY));
    c.control({ type: 'hello', version: 1, capabilities });
    const w = await c.next();
    if (w?.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(w)}`);
    return c;
  }

  control(message: object): void {
    this.socket.write(encodeControlFrame(message));
  }

  /** Sends `bytes` as data frames of at most `frame` bytes. */
  data(bytes: Uint8Array, frame = 256 * 1024): void {
    for (let at = 0; at < bytes.length; at += frame) {
      const [h, b] = encodeFrame(FrameKind.Data, bytes.subarray(at, at + frame));
      this.socket.write(Buffer.concat([h, b]));
      this.dataBytes += b.length;
    }
  }

  /** Writes raw bytes (a cut frame). */
  raw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves once everything written so far was handed to the kernel. */
  async flushed(): Promise<void> {
    if (this.socket.writableNeedDrain) await once(this.socket, 'drain');
    await new Promise<void>((r) => this.socket.write(Buffer.alloc(0), () => r()));
  }

  next(timeoutMs = 20_000): Promise<ServerMessage | undefined> {
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

  async closed(): Promise<void> {
    if (this.#ended) return;
    await once(this.socket, 'close');
  }

  /** Cuts the connection: the server sees the stream end (a FIN) with nothing more. */
  async cut(): Promise<void> {
    this.socket.destroy();
    await this.closed();
  }
}

/** The partials directory's records, by put id. */
export function partialRecords(dataDir: string): Map<string, { durable: number; file: string; touchedAt: string }> {
  const dir = join(dataDir, 'partials');
  const out = new Map<string, { durable: number; file: string; touchedAt: string }>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      const r = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { id: string; durable: number; file: string };
      out.set(r.id, r as never);
    } catch {
      // being replaced this instant
    }
  }
  return out;
}

/** Every name in the partials directory. */
export function partialFiles(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, 'partials')).sort();
  } catch {
    return [];
  }
}
