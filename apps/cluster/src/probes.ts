/**
 * Is each part up? A server is asked as HAProxy's check asks it (a PROXY v2 LOCAL header, hello, bye: logged at
 * debug only), a nats-server node through its monitoring `/healthz` and `/jsz`, HAProxy through its stats socket.
 */
import * as net from 'node:net';
import { encodeControlFrame, FrameDecoder, parseServerMessage } from '@proj/protocol/wire';

/** The 16 bytes of a PROXY protocol v2 header with the LOCAL command and no addresses. */
const PROXY_V2_LOCAL = Buffer.from('0d0a0d0a000d0a515549540a20000000', 'hex');

/**
 * Whether the server on `port` (started with --proxy-protocol) answers a hello as HAProxy's check expects: a
 * welcome, or ERR_AUTH from a server that requires a token (the probe has none).
 */
export function probeServer(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
    let done = false;
    const finish = (ready: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ready);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('connect', () => {
      socket.write(
        Buffer.concat([
          PROXY_V2_LOCAL,
          encodeControlFrame({ type: 'hello', version: 1, agent: 'pnpm-cluster' }),
          encodeControlFrame({ type: 'bye' }),
        ]),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) {
          const message = parseServerMessage(frame.payload);
          finish(message.type === 'welcome' || (message.type === 'error' && message.code === 'ERR_AUTH'));
          return;
        }
      } catch {
        finish(false);
      }
    });
  });
}

async function getJson(url: string, timeoutMs = 1000): Promise<unknown> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? await response.json() : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the node with this monitoring port says it is healthy. */
export async function natsHealthy(monitorPort: number): Promise<boolean> {
  const health = (await getJson(`http://127.0.0.1:${monitorPort}/healthz`)) as { status?: string } | undefined;
  return health?.status === 'ok';
}

/** The JetStream meta leader's name as the node with this monitoring port sees it. */
export async function natsMetaLeader(monitorPort: number): Promise<string | undefined> {
  const jsz = (await getJson(`http://127.0.0.1:${monitorPort}/jsz`)) as
    | { meta_cluster?: { leader?: string } }
    | undefined;
  return jsz?.meta_cluster?.leader || undefined;
}

/** Each JetStream stream's leader (`KV_proj_receipts` → `n2`), as the node with this monitoring port sees it. */
export async function natsStreamLeaders(monitorPort: number): Promise<Record<string, string>> {
  const jsz = (await getJson(`http://127.0.0.1:${monitorPort}/jsz?accounts=true&streams=true`)) as
    | { account_details?: Array<{ stream_detail?: Array<{ name: string; cluster?: { leader?: string } }> }> }
    | undefined;
  const leaders: Record<string, string> = {};
  for (const account of jsz?.account_details ?? []) {
    for (const stream of account.stream_detail ?? []) {
      if (stream.cluster?.leader) leaders[stream.name] = stream.cluster.leader;
    }
  }
  return leaders;
}

/** A server as HAProxy sees it. */
export interface BackendState {
  /** `s1`, `s2`, `s3`. */
  name: string;
  /** `UP`, `DOWN`, `UP 1/2` (going down), `no check`, `MAINT`. */
  status: string;
  /** Connections open now. */
  current: number;
  /** Connections since HAProxy started. */
  total: number;
}

/** `show stat` through the stats socket: the backend's servers, or undefined when HAProxy does not answer. */
export function haproxyBackends(statsSocket: string, timeoutMs = 1000): Promise<BackendState[] | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(statsSocket);
    let text = '';
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('error', () => undefined);
    socket.on('connect', () => socket.end('show stat\n'));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text === '' ? undefined : parseStat(text));
    });
  });
}

/** The CSV of `show stat`: a header line `# pxname,svname,...`, one line per frontend, server, backend. */
export function parseStat(csv: string): BackendState[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const col = (name: string): number => header.indexOf(name);
  const out: BackendState[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    const name = f[col('svname')] ?? '';
    if (f[col('pxname')] !== 'servers' || name === 'BACKEND' || name === 'FRONTEND') continue;
    out.push({
      name,
      status: f[col('status')] ?? '',
      current: Number(f[col('scur')] ?? 0),
      total: Number(f[col('stot')] ?? 0),
    });
  }
  return out;
}
