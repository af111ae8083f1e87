/**
 * What every client case gets, and the one way a client case runs: start the scripted server with a behavior,
 * make the client act once (./driver.ts), stop the server, and hold every connection's frames against the spec
 * (./frame-checker.ts). The case then checks the client's outcome: acknowledged, or failed (with its code).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DictFormat } from '@proj/protocol/dict';
import { check } from '../case';
import type { PutIds } from '../ids';
import type { Vectors } from '../vectors';
import { behave, type Behavior } from './behavior';
import type { ClientDriver, DriverResult } from './driver';
import { checkClientFrames } from './frame-checker';
import { ScriptedServer, type ScriptedConnection } from './scripted-server';

export interface ClientContext {
  driver: ClientDriver;
  answerMs: number;
  vectors: Vectors;
  ids: PutIds;
  /** A directory for the files the client is given to send. */
  workDir: string;
  /** spec/vectors/dict/sample.value.json: the dictionary whose encodings are golden (§5.7). */
  sampleValueFile: string;
}

export interface Outcome {
  result: DriverResult;
  connections: ScriptedConnection[];
  /** What the client did against the spec, connection by connection. */
  problems: string[];
}

/** The welcome vector's envelope, with `limits` members replaced. */
export function welcomeWith(ctx: ClientContext, limits: Record<string, number> = {}): Record<string, unknown> {
  const frame = ctx.vectors.frames.get('welcome')?.frames[0];
  const message = frame?.kind === 1 ? frame.message : {};
  return { ...message, limits: { ...(message.limits as object), ...limits } };
}

/** Runs the client once against a scripted server that behaves as `behavior` says. */
export async function scenario(
  ctx: ClientContext,
  behavior: Partial<Behavior>,
  act: (port: number) => Promise<DriverResult>,
): Promise<Outcome> {
  const server = await ScriptedServer.start(
    behave({ welcome: welcomeWith(ctx), waitMs: ctx.answerMs * 2, ...behavior }),
  );
  let result: DriverResult;
  try {
    result = await act(server.port);
  } finally {
    await server.close();
  }
  const problems = server.connections.flatMap((c) =>
    checkClientFrames(c.log).map((p) => (server.connections.length > 1 ? `connection ${c.index + 1}: ${p}` : p)),
  );
  problems.push(...server.scriptErrors.map((e) => `the scripted server broke (a bug of the kit): ${e}`));
  return { result, connections: server.connections, problems };
}

/** A dictionary file for the client, and the job that sends it. */
export async function dictJob(ctx: ClientContext, value: unknown, format: DictFormat = 'json') {
  const id = ctx.ids.next('client');
  const file = join(ctx.workDir, `${id}.json`);
  await writeFile(file, JSON.stringify(value));
  return { id, format, file };
}

/** A file of `size` bytes for the client, and the job that sends it. */
export async function fileJob(ctx: ClientContext, size: number) {
  const id = ctx.ids.next('client');
  const name = `${id}.bin`;
  const file = join(ctx.workDir, name);
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 7 + 3) & 0xff;
  await writeFile(file, body);
  return { job: { id, file, name }, body };
}

/** The client's frames conform, and it reported success. */
export function expectAcknowledged(o: Outcome): void {
  expectConforming(o);
  check(o.result.ok, () => `the client should have succeeded, but it failed:\n${o.result.output}`);
}

/** The client's frames conform, and it reported failure (with `code`, when the driver can tell codes). */
export function expectFailed(o: Outcome, code?: string): void {
  expectConforming(o);
  check(!o.result.ok, () => `the client should have failed${code ? ` with ${code}` : ''}, but it succeeded`);
  if (code !== undefined && o.result.code !== undefined) {
    check(o.result.code === code, () => `the client should have failed with ${code}, got ${o.result.code}`);
  }
}

export function expectConforming(o: Outcome): void {
  check(o.problems.length === 0, () => `the client broke the spec:\n${o.problems.join('\n')}`);
}

/** Every put the client sent on any connection, in order. */
export function putsSent(o: Outcome): { type: string; id: string; connection: number }[] {
  const out: { type: string; id: string; connection: number }[] = [];
  for (const c of o.connections) {
    for (const e of c.log) {
      if (e.dir !== 'in' || e.frame.kind !== 1) continue;
      const m = e.frame.message;
      if (m?.type === 'put_dict' || m?.type === 'put_file') out.push({ type: m.type, id: m.id, connection: c.index });
    }
  }
  return out;
}

/** The data bytes the client sent on a connection (after its welcome), joined. */
export function dataSent(conn: ScriptedConnection): Buffer {
  const parts: Buffer[] = [];
  for (const e of conn.log) if (e.dir === 'in' && e.frame.kind === 2) parts.push(e.frame.payload);
  return Buffer.concat(parts);
}
