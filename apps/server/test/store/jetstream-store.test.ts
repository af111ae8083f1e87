/**
 * The store suite (./store-suite.ts) against a real 3-node nats-server cluster started here, and what only the
 * JetStream store has: id encoding, orphan objects whose receipt never came, the age that protects uploads under
 * way, the cluster's max_payload checked against the dictionary limit.
 */
import { PassThrough } from 'node:stream';
import { findNatsServer, makeTempDir, type NatsCluster, startNatsCluster } from '@proj/test-utils';
import { runCli } from '../../src/cli';
import { createLogger } from '../../src/logger';
import { UsageError } from '../../src/options';
import { JetStreamStore } from '../../src/store/jetstream/jetstream-store';
import { idOfKey, ITEMS_BUCKET, keyOfId, parseItemPath } from '../../src/store/jetstream/names';
import {
  type ObjectMeta,
  chunkSubject,
  metaSubject,
  purgeObject,
  readObjectMeta,
} from '../../src/store/jetstream/objects';
import { parseNatsCredentials, parseNatsServers } from '../../src/store/jetstream/options';
import { decodeEntry, encodeEntry, listReceiptEntries } from '../../src/store/jetstream/receipts';
import { DeadlineError, isTransient, retry } from '../../src/store/jetstream/retry';
import { newServerId } from '../../src/store/paths';
import { storeSuite } from './store-suite';

const log = createLogger('silent');
let cluster: NatsCluster | undefined;
let inspector: JetStreamStore | undefined;

const openStore = (options: { maxDictBytes?: number } = {}): Promise<JetStreamStore> =>
  JetStreamStore.open({
    servers: (cluster as NatsCluster).urls,
    serverId: newServerId(),
    log,
    clean: false,
    maxDictBytes: options.maxDictBytes ?? 1024 * 1024,
  });

/** Objects no receipt names and chunks no object names, as subjects. */
async function leftovers(): Promise<string[]> {
  const conn = (inspector as JetStreamStore).conn;
  const info = await conn.jsm.streams.info(conn.itemsStream, { subjects_filter: '>' });
  const subjects = Object.keys(info.state.subjects ?? {});
  const paths = new Set((await listReceiptEntries(conn)).entries.map((e) => e.item.path));
  const live = new Set<string>();
  const out: string[] = [];
  for (const subject of subjects.filter((s) => s.startsWith(`${conn.itemsPrefix}.M.`))) {
    const m = await conn.jsm.direct.getMessage(conn.itemsStream, { last_by_subj: subject });
    const meta = m?.json<ObjectMeta>();
    if (meta && !meta.deleted && paths.has(meta.name)) live.add(chunkSubject(conn, meta.nuid));
    else out.push(subject);
  }
  for (const subject of subjects.filter((s) => s.startsWith(`${conn.itemsPrefix}.C.`))) {
    if (!live.has(subject)) out.push(subject);
  }
  return out;
}

const program = findNatsServer();

storeSuite('JetStream', {
  skipReason: () => (program === undefined ? 'nats-server is not installed (apt-get install nats-server)' : undefined),
  setup: async () => {
    cluster = await startNatsCluster();
    inspector = await openStore();
  },
  teardown: async () => {
    await inspector?.close();
    await cluster?.stop();
  },
  open: () => openStore(),
  serverOptions: () => ({ store: (cluster as NatsCluster).url }),
  leftovers,
  collect: async () => {
    await (inspector as JetStreamStore).cleanOrphans(0);
  },
  cliArgs: () => ['--store', (cluster as NatsCluster).url],
  loseBytes: async (item) => {
    const { conn } = inspector as JetStreamStore;
    const meta = await readObjectMeta(conn, item.path);
    if (meta === undefined) throw new Error(`no object ${item.path}`);
    await purgeObject(conn, meta.nuid, meta.name);
  },
});

describe('JetStream store names and options', () => {
  test('put ids become KV keys and back; keys never hold what KV refuses', () => {
    for (const id of ['a', 'a:b', 'x.y..z', 'A-Z_09', 'k8s:pod.1-2', '9'.repeat(128)]) {
      const key = keyOfId(id);
      expect(key).toMatch(/^[A-Za-z0-9_=-]+$/);
      expect(idOfKey(key)).toBe(id);
    }
    expect(keyOfId('a:b.c')).toBe('a=3Ab=2Ec');
    expect(idOfKey('a=3')).toBeUndefined();
    expect(idOfKey('a.b')).toBeUndefined();
  });

  test('a stored path says where its bytes are', () => {
    expect(parseItemPath('items/2026-12-03/150203-3fa9c2d1-42-7~a_b-notes.txt')).toEqual({
      kind: 'file',
      object: 'items/2026-12-03/150203-3fa9c2d1-42-7~a_b-notes.txt',
    });
    expect(parseItemPath('items/2026-12-03/150203-3fa9c2d1-42-a=3Ab-dict.json')).toEqual({
      kind: 'dict',
      key: 'a=3Ab',
    });
    expect(parseItemPath('items/2026-12-03/../../etc/passwd')).toBeUndefined();
  });

  test('--store takes host:port lists, credentials come from a file in one of three forms', () => {
    expect(parseNatsServers('nats://h1:4222,h2:4222, h3:4222')).toEqual([
      'nats://h1:4222',
      'nats://h2:4222',
      'nats://h3:4222',
    ]);
    expect(() => parseNatsServers('nats://user:pw@h1:4222')).toThrow(UsageError);
    expect(() => parseNatsServers('http://h1:4222')).toThrow(UsageError);
    expect(parseNatsCredentials('# who\nuser=svc\npassword = s3cret\n', 'f')).toEqual({
      kind: 'user',
      user: 'svc',
      password: 's3cret',
    });
    expect(parseNatsCredentials('token=abc', 'f')).toEqual({ kind: 'token', token: 'abc' });
    const creds = '-----BEGIN NATS USER JWT-----\neyJ...\n------END NATS USER JWT------\n';
    expect(parseNatsCredentials(creds, 'f')).toEqual({ kind: 'creds', text: creds });
    expect(() => parseNatsCredentials('user=a\ntoken=b', 'f')).toThrow(UsageError);
    expect(() => parseNatsCredentials('password=b', 'f')).toThrow(UsageError);
  });
});

describe('JetStream store retries and receipt entries', () => {
  const coded = (name: string, code?: number): Error => Object.assign(new Error(name), { name, code });

  test('what is retried: no answer, no responders, no leader; not an answer such as "the key exists"', () => {
    expect(isTransient(coded('TimeoutError'))).toBe(true);
    expect(isTransient(coded('NoRespondersError'))).toBe(true);
    expect(isTransient(coded('JetStreamNotEnabled'))).toBe(true);
    expect(isTransient(coded('JetStreamApiError', 10008))).toBe(true);
    expect(isTransient(coded('JetStreamApiError', 10071))).toBe(false);
    expect(isTransient(coded('ClosedConnectionError'))).toBe(false);
    expect(isTransient(new RangeError('bad'))).toBe(false);
  });

  test('a call is tried again until it answers, an answer ends it, and the deadline ends the trying', async () => {
    let calls = 0;
    const answer = await retry('t', async () => {
      calls += 1;
      if (calls < 3) throw coded('TimeoutError');
      return 'ok';
    });
    expect({ answer, calls }).toEqual({ answer: 'ok', calls: 3 });

    const refused = coded('JetStreamApiError', 10071);
    await expect(retry('t', () => Promise.reject(refused))).rejects.toBe(refused);

    const timeout = coded('TimeoutError');
    const failure = await retry('t', () => Promise.reject(timeout), { totalMs: 200, attemptMs: 50 }).catch((e) => e);
    expect(failure).toBeInstanceOf(DeadlineError);
    expect((failure as DeadlineError).code).toBe('ERR_STORE_DEADLINE');
    expect((failure as DeadlineError).cause).toBe(timeout);
  });

  test('a receipt entry holds the receipt, its attempt and a dictionary; damage is named, never thrown', () => {
    const item = {
      id: 'a:b',
      kind: 'dict' as const,
      path: 'items/2026-12-03/150203-3fa9c2d1-42-a=3Ab-dict.json',
      bytes: 3,
      sha256: 'f'.repeat(64),
      format: 'json' as const,
      encrypted: false,
      receivedAt: '2026-12-03T15:02:03.000Z',
      sender: '127.0.0.1:1',
      serverId: '3fa9c2d1-42',
    };
    const bytes = encodeEntry({ item, attempt: 'x.1', data: Buffer.from('[1]') });
    expect(decodeEntry(bytes, 'a:b')).toEqual({ item, attempt: 'x.1', data: Buffer.from('[1]') });
    expect(decodeEntry(bytes, 'other')).toEqual({ problem: 'holds id "a:b"' });
    expect(decodeEntry(bytes.subarray(0, 10), 'a:b')).toEqual({ problem: 'truncated' });
    expect(decodeEntry(new Uint8Array(0), 'a:b')).toEqual({ problem: 'empty' });
    expect(decodeEntry(Buffer.from('\0\0\0\x02{x'), 'a:b')).toMatchObject({
      problem: expect.stringMatching(/^not JSON/),
    });
  });
});

(program === undefined ? describe.skip : describe)('the JetStream store on a cluster', () => {
  beforeAll(async () => {
    cluster = await startNatsCluster();
    inspector = await openStore();
  }, 60_000);
  afterAll(async () => {
    await inspector?.close();
    await cluster?.stop();
  }, 60_000);

  test('`list --store nats://…` prints what the cluster holds, as it does for a data directory', async () => {
    const store = inspector as JetStreamStore;
    await store.storeDict({ id: 'cli:list.1', format: 'json', data: Buffer.from('{"a":1}'), sender: '127.0.0.1:7' });
    const home = await makeTempDir('store-list-');
    try {
      const out = new PassThrough();
      let printed = '';
      out.on('data', (c: Buffer) => (printed += c.toString()));
      const io = {
        argv: ['list', '--json'],
        env: { PROJ_SERVER_STORE: (cluster as NatsCluster).url },
        cwd: home.path,
        defaultDataDir: home.path,
        stdin: {},
        stdout: out,
        stderr: new PassThrough(),
        waitForSignal: () => new Promise<string>(() => undefined),
      };
      expect(await runCli(io)).toBe(0);
      const lines = printed
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; path: string });
      expect(lines.find((l) => l.id === 'cli:list.1')?.path).toMatch(/-cli=3Alist=2E1-dict\.json$/);
    } finally {
      await home.remove();
    }
  });

  test('receipts and items are kept on 3 replicas, readable by Direct Get', async () => {
    const { conn } = inspector as JetStreamStore;
    for (const stream of ['KV_proj_receipts', conn.itemsStream]) {
      const { config } = await conn.jsm.streams.info(stream);
      expect(config).toMatchObject({ num_replicas: 3, allow_direct: true });
    }
  });

  test('an object whose receipt never came is collected after the age, not before', async () => {
    const store = inspector as JetStreamStore;
    const { conn } = store;
    const name = 'items/2026-12-03/150203-3fa9c2d1-42-1~lost-a.bin';
    const nuid = 'LOSTNUID0001';
    await conn.js.publish(chunkSubject(conn, nuid), Buffer.from('lost bytes'));
    const meta = {
      name,
      bucket: ITEMS_BUCKET,
      nuid,
      size: 10,
      chunks: 1,
      mtime: new Date().toISOString(),
      digest: 'SHA-256=x',
      deleted: false,
      metadata: { putId: 'lost' },
    };
    await conn.js.publish(metaSubject(conn, name), JSON.stringify(meta));
    expect(await leftovers()).toHaveLength(2);
    expect(await store.cleanOrphans(60 * 60 * 1000)).toEqual({ objects: 0, chunks: 0, partials: 0 });
    expect(await leftovers()).toHaveLength(2);
    expect(await store.cleanOrphans(0)).toEqual({ objects: 1, chunks: 0, partials: 0 });
    expect(await leftovers()).toEqual([]);
  });

  test('a cluster whose max_payload cannot hold a dictionary and its receipt is refused at open', async () => {
    await expect(openStore({ maxDictBytes: 8 * 1024 * 1024 })).rejects.toBeInstanceOf(UsageError);
  });

  test('a dictionary of the full 1 MiB limit fits its receipt entry', async () => {
    const store = inspector as JetStreamStore;
    const data = Buffer.alloc(1024 * 1024, 0x61);
    const { item } = await store.storeDict({ id: 'full-mib', format: 'json', data, sender: 'x:1' });
    expect(item.bytes).toBe(1024 * 1024);
    expect((await store.readHead(item.path, 4)).head.toString()).toBe('aaaa');
  });
});
