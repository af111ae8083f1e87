/** Shared by the integration tests: a real server in-process, the compiled CLI as a child process, a flaky proxy. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import { join } from 'node:path';
import { encodeFrame, FrameDecoder } from '@proj/protocol/wire';
import { startServerInTempDir } from '@proj/test-utils';
import { startServer } from 'server';

export const CLIENT_DIR = join(__dirname, '..', '..');
export const MAIN = join(CLIENT_DIR, 'dist', 'main.js');

export type TestServer = Awaited<ReturnType<typeof startServer>> & { removeDir(): Promise<void> };

/** A server on a free port with a fresh data directory; quiet. */
export async function startTestServer(options: Partial<Parameters<typeof startServer>[0]> = {}): Promise<TestServer> {
  const { server, removeDir } = await startServerInTempDir(
    startServer,
    { output: 'file', stdout: null, logLevel: 'silent', ...options },
    'client-it-data-',
  );
  return Object.assign(server, { removeDir });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/main.js …args` to the end; never through a shell. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: CLIENT_DIR,
    env: {
      ...process.env,
      PROJ_HOST: '',
      PROJ_PORT: '',
      // Paths resolve from the test's folder, whatever folder pnpm was started in (src/main.ts).
      INIT_CWD: '',
      PROJ_CLIENT_RETRY_BASE_MS: '20',
      PROJ_CLIENT_SCRYPT_WORK_FACTOR: '10',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin.end(input ?? '');
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** The JSON lines a `--json` run printed. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface FlakyProxy {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Bytes the client sent on each connection (index 0: the first), as the proxy received them. */
  clientBytes: number[];
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a real server that breaks connections on purpose. For connection number `n` (from 1),
 * `plan(n)` says what to do:
 * - `pass`: forward both ways;
 * - `{ dropAtServerFrame: k }`: forward until the server's k-th frame (1 = welcome), then cut both sides without
 *   forwarding it (k = 2 drops the first receipt or ready: the put may be stored, the client never hears);
 * - `{ dropAfterClientBytes: b }`: cut once the client has sent more than `b` bytes (a lost upload).
 */
export async function startFlakyProxy(
  target: { host: string; port: number },
  plan: (n: number) => 'pass' | { dropAtServerFrame: number } | { dropAfterClientBytes: number },
): Promise<FlakyProxy> {
  const sockets = new Set<net.Socket>();
  const proxy: FlakyProxy = { port: 0, connections: 0, clientBytes: [], close: async () => undefined };
  const server = net.createServer((client) => {
    proxy.connections += 1;
    const rule = plan(proxy.connections);
    const upstream = net.connect({ host: target.host, port: target.port });
    sockets.add(client).add(upstream);
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    let clientBytes = 0;
    const index = proxy.connections - 1;
    proxy.clientBytes[index] = 0;
    client.on('data', (chunk: Buffer) => {
      clientBytes += chunk.length;
      proxy.clientBytes[index] = clientBytes;
      if (typeof rule === 'object' && 'dropAfterClientBytes' in rule && clientBytes > rule.dropAfterClientBytes) {
        const keep = chunk.length - (clientBytes - rule.dropAfterClientBytes);
        if (keep > 0) upstream.write(chunk.subarray(0, keep));
        cut();
        return;
      }
      upstream.write(chunk);
    });
    const decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 });
    let serverFrames = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (typeof rule === 'object' && 'dropAtServerFrame' in rule) {
        // Frames are counted, and bytes forwarded only up to the end of the last frame allowed through.
        const frames = decoder.push(chunk);
        for (const frame of frames) {
          serverFrames += 1;
          if (serverFrames >= rule.dropAtServerFrame) {
            cut();
            return;
          }
          client.write(Buffer.concat(encodeFrame(frame.kind, frame.payload)));
        }
        return;
      }
      client.write(chunk);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  proxy.port = (server.address() as net.AddressInfo).port;
  proxy.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  };
  return proxy;
}
