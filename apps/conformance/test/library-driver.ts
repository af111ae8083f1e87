/**
 * A client-mode driver that calls our client library in-process (`connect`, `sendDict`, `sendFile`): the kit's
 * client cases check @proj/protocol's client without a process per case, and see the error codes it raises.
 */
import { readFile } from 'node:fs/promises';
import { connect, type Client, type Dict } from '@proj/protocol';
import type { ClientDriver, DriverResult } from '../src/client/driver';

async function attempt(host: string, port: number, put: (client: Client) => Promise<unknown>): Promise<DriverResult> {
  let client: Client | undefined;
  try {
    client = await connect({ host, port, timeoutMs: 5000, keepAlive: false, agent: 'conformance-test' });
    await put(client);
    return { ok: true, output: '' };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { ok: false, ...(typeof code === 'string' ? { code } : {}), output: (err as Error).message };
  } finally {
    await client?.close().catch(() => undefined);
  }
}

export const libraryDriver: ClientDriver = {
  sendDict: async (host, port, job) => {
    const value = JSON.parse(await readFile(job.file, 'utf8')) as Dict;
    return attempt(host, port, (client) => client.sendDict(value, { format: job.format, id: job.id }));
  },
  sendFile: (host, port, job) =>
    attempt(host, port, (client) => client.sendFile(job.file, { id: job.id, name: job.name })),
};
