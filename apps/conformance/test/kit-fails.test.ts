/**
 * The kit fails what breaks the spec: a server that welcomes any version and sends receipts that do not match,
 * one that sends capabilities to a hello that asked for none and stores names as they come, and a client that
 * sends file data before `ready` and takes any receipt. Real sockets both ways: the bad server is the kit's own
 * scripted server told to misbehave, the bad client a raw connection.
 */
import { readFile } from 'node:fs/promises';
import { encodeControlFrame } from '@proj/protocol/wire';
import type { CaseResult } from '../src/case';
import { behave } from '../src/client/behavior';
import type { ClientDriver, DriverResult } from '../src/client/driver';
import { runClientCases } from '../src/client/run-client-cases';
import { ScriptedServer } from '../src/client/scripted-server';
import { RawConnection } from '../src/server/raw-connection';
import { runServerCases } from '../src/server/run-server-cases';
import { readVectors, vector } from '../src/vectors';

const vectors = readVectors();
const welcome = (vector(vectors.frames, 'welcome').frames[0] as { message: Record<string, unknown> }).message;
const byId = (results: CaseResult[]): Record<string, CaseResult> => Object.fromEntries(results.map((r) => [r.id, r]));

test('a server that welcomes any version and sends receipts with a wrong SHA-256 fails those cases', async () => {
  const server = await ScriptedServer.start(behave({ welcome, waitMs: 2000, dict: () => 'wrong-sha256' }));
  try {
    const results = byId(
      await runServerCases({
        options: { host: '127.0.0.1', port: server.port, maxWaitMs: 1000, maxSendBytes: 1 << 20 },
        answerMs: 500,
        only: ['4.1.2', '4.5.1', '5.7.1', '4.1.1'],
        vectors,
      }),
    );
    expect(results['4.1.1']?.outcome).toBe('pass');
    expect(results['4.1.2']).toMatchObject({
      outcome: 'fail',
      reason: expect.stringMatching(/expected error ERR_VERSION, got .*welcome/),
    });
    for (const id of ['4.5.1', '5.7.1']) {
      expect(results[id]).toMatchObject({ outcome: 'fail', reason: expect.stringMatching(/the receipt says/) });
    }
  } finally {
    await server.close();
  }
}, 30_000);

test('a server that sends capabilities to every hello, and stores any name as it is, fails those cases', async () => {
  const server = await ScriptedServer.start(behave({ welcome: { ...welcome, capabilities: [] }, waitMs: 2000 }));
  try {
    const results = byId(
      await runServerCases({
        options: { host: '127.0.0.1', port: server.port, maxWaitMs: 1000, maxSendBytes: 1 << 20 },
        answerMs: 500,
        only: ['4.2.1', '4.2.2', '4.9.1'],
        vectors,
      }),
    );
    expect(results['4.2.1']?.outcome).toBe('pass');
    expect(results['4.2.2']).toMatchObject({
      outcome: 'fail',
      reason: expect.stringMatching(/got a welcome with capabilities/),
    });
    expect(results['4.9.1']).toMatchObject({
      outcome: 'fail',
      reason: expect.stringMatching(/is stored under the name/),
    });
  } finally {
    await server.close();
  }
}, 30_000);

test('a server that is not there fails to start the run, with the reason', async () => {
  const server = await ScriptedServer.start(async () => undefined);
  const port = server.port;
  await server.close();
  await expect(
    runServerCases({
      options: { host: '127.0.0.1', port, maxWaitMs: 1000, maxSendBytes: 1 },
      answerMs: 500,
      only: [],
      vectors,
    }),
  ).rejects.toMatchObject({ code: 'ERR_TARGET', message: expect.stringMatching(/could not connect/) });
});

/** A client that writes a file put whole without waiting for ready, and takes whatever answer comes. */
const careless: ClientDriver = {
  sendDict: async (host, port, job) => {
    const conn = await RawConnection.open(host, port, 2000);
    try {
      const body = Buffer.from(await readFile(job.file));
      await conn.send({ type: 'hello', version: 1 });
      await conn.send({ type: 'put_dict', id: job.id, format: 'json', bytes: body.length });
      await conn.sendData(body);
      await conn.next(2000);
      const answer = await conn.next(2000);
      return { ok: answer.type === 'message', output: '' };
    } finally {
      conn.destroy();
    }
  },
  sendFile: async (host, port, job): Promise<DriverResult> => {
    const conn = await RawConnection.open(host, port, 2000);
    try {
      const body = Buffer.from(await readFile(job.file));
      await conn.write(
        Buffer.concat([
          encodeControlFrame({ type: 'hello', version: 1 }),
          encodeControlFrame({ type: 'put_file', id: job.id, name: job.name }),
        ]),
      );
      await conn.sendData(body);
      await conn.send({ type: 'file_end', id: job.id, bytes: body.length + 1, sha256: '0'.repeat(64) });
      for (let i = 0; i < 3; i++) await conn.next(1000).catch(() => undefined);
      return { ok: true, output: '' };
    } finally {
      conn.destroy();
    }
  },
};

test('a client that sends data before ready, lies in file_end and takes any receipt fails those cases', async () => {
  const results = byId(
    await runClientCases({ driver: careless, answerMs: 1000, only: ['3.3', '4.6.1', '3.1'], vectors }),
  );
  expect(results['3.1']?.outcome).toBe('pass');
  expect(results['3.3']).toMatchObject({ outcome: 'fail', reason: expect.stringMatching(/should have failed/) });
  expect(results['4.6.1']).toMatchObject({
    outcome: 'fail',
    reason: expect.stringMatching(/before the server's ready[\s\S]*file_end says 10001 bytes/),
  });
}, 30_000);
