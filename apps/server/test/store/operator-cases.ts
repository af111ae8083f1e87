/**
 * The operator's item commands (`list`, `show`, `cat`, `rm`, `prune`; docs/SERVER.md §4) against every store of
 * the store suite (./store-suite.ts calls these cases inside its own describe, on its shared storage): the same
 * command line, `--data-dir DIR` or `--store nats://…`, gives the same answers. Commands run in this process
 * through ../../src/cli.ts, and as the real program where exit codes are the point.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { encryptFile, generateIdentity, recipientOf, writeIdentityFile } from '@proj/crypto';
import { connect } from '@proj/protocol';
import { codeOfRejection, makeTempDir, sha256Hex } from '@proj/test-utils';
import { runCli } from '../../src/cli';
import { InputBudget } from '../../src/input-budget';
import { createLogger } from '../../src/logger';
import type { ItemStore } from '../../src/store/item-store';
import { openItemCatalog } from '../../src/store/open-store';
import { newServerId } from '../../src/store/paths';
import type { StoredItem } from '../../src/store/receipts';
import { startTestServer } from '../helpers';
import { buildServer, type ProgramRun, runProgram } from '../reliability/harness';
import type { StoreBackend } from './store-suite';

type Ran = ProgramRun;

/** `server …args` in this process; a failure rejects with the coded error main.ts would report. */
async function cli(args: readonly string[], cwd: string): Promise<Ran> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const err = new PassThrough();
  let stderr = '';
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await runCli({
    argv: [...args],
    env: {},
    cwd,
    defaultDataDir: join(cwd, 'data'),
    stdin: {},
    stdout: out,
    stderr: err,
    waitForSignal: () => new Promise<string>(() => undefined),
  } as unknown as Parameters<typeof runCli>[0]);
  return { code, stdout: Buffer.concat(parts), stderr };
}

/** The real program, with no store named in its environment but the one given in its arguments. */
const program = (args: readonly string[], cwd: string): Promise<Ran> =>
  runProgram(args, { cwd, env: { PROJ_SERVER_STORE: '', PROJ_SERVER_DATA_DIR: '', PROJ_SERVER_CONFIG: '' } });

const jsonLines = (r: Ran): { id: string; missing?: boolean }[] =>
  r.stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { id: string; missing?: boolean });

/** A put id unique to this run (a `:` and a `.`, which KV keys refuse, included). */
const newId = (prefix: string): string => `${prefix}:${randomBytes(4).toString('hex')}.x`;

const FILE_META = { name: 'op.bin', cleanedName: 'op.bin', declared: 'none' as const, sender: '127.0.0.1:1' };

/** Stores `data` as a file under `id`, in pieces of 64 KiB. */
async function storeFile(
  store: ItemStore,
  id: string,
  data: Buffer,
  meta: typeof FILE_META | (Omit<typeof FILE_META, 'declared'> & { declared: 'age' }) = FILE_META,
): Promise<StoredItem> {
  const sink = await store.openFileSink({
    id,
    size: data.length,
    budget: new InputBudget(64 * 1024 * 1024),
    signal: new AbortController().signal,
  });
  for (let at = 0; at < data.length; at += 65_536) await sink.write(data.subarray(at, at + 65_536));
  return (await sink.commit(meta)).item;
}

/**
 * Defines the cases. `openStore` opens a store on the shared storage as a server would (closed by the suite
 * after each test); items are stored through one and read back through the commands.
 */
export function operatorCases(backend: StoreBackend, openStore: () => Promise<ItemStore>): void {
  let home: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    home = await makeTempDir('operator-cases-');
  });
  afterAll(async () => {
    await home?.remove();
  });
  const run = (...args: string[]): Promise<Ran> => cli([...args, ...backend.cliArgs()], home.path);
  /** The store a command reads is the one the suite stored into; a store is closed before the commands run. */
  const storeAndClose = async (put: (store: ItemStore) => Promise<StoredItem[]>): Promise<StoredItem[]> => {
    const store = await openStore();
    const items = await put(store);
    // A data directory's store alone writes a dictionary's file just after its receipt: closed, it has.
    await store.close();
    return items;
  };

  test('show and cat: the receipt, the content, and the bytes as stored (checksums), for a dictionary and a file', async () => {
    const dictId = newId('op-dict');
    const fileId = newId('op-file');
    const dict = Buffer.from(JSON.stringify({ who: 'Ada', langs: ['en', 'fr'] }));
    const body = randomBytes(2 * 1024 * 1024 + 4321); // several chunks of the object store
    const [d, f] = await storeAndClose(async (store) => [
      (await store.storeDict({ id: dictId, format: 'json', data: dict, sender: '127.0.0.1:5' })).item,
      await storeFile(store, fileId, body),
    ]);

    const shown = await run('show', dictId);
    expect(shown.code).toBe(0);
    const text = shown.stdout.toString('utf8');
    expect(text).toMatch(new RegExp(`^id:\\s+${dictId.replace(/\./g, '\\.')}$`, 'm'));
    expect(text).toMatch(/^kind:\s+dict\/json$/m);
    expect(text).toMatch(/^state:\s+ok$/m);
    expect(text).toContain('"who": "Ada"');
    expect(JSON.parse((await run('show', fileId, '--json')).stdout.toString('utf8'))).toEqual(f);

    const dictBytes = await run('cat', dictId);
    expect(dictBytes.stdout.equals(dict)).toBe(true);
    expect(sha256Hex(dictBytes.stdout)).toBe(d?.sha256);
    const fileBytes = await run('cat', fileId);
    expect(fileBytes.code).toBe(0);
    expect(fileBytes.stdout.length).toBe(body.length);
    expect(sha256Hex(fileBytes.stdout)).toBe(f?.sha256);
    const out = join(home.path, `${fileId}.out`);
    expect((await run('cat', fileId, '--out', out)).code).toBe(0);
    expect(sha256Hex(await readFile(out))).toBe(sha256Hex(body));

    const listed = jsonLines(await run('list', '--json', 'op-'));
    expect(listed.filter((l) => l.id === dictId || l.id === fileId)).toEqual([d, f]);
  });

  test("an age file: shown and read as stored, its plaintext with --decrypt and the server's identity", async () => {
    const identityFile = join(home.path, 'identity.txt');
    const identity = await generateIdentity();
    await writeIdentityFile(identityFile, identity);
    const plain = randomBytes(200_000);
    await writeFile(join(home.path, 'plain.bin'), plain);
    await encryptFile(join(home.path, 'plain.bin'), join(home.path, 'plain.bin.age'), {
      recipients: [await recipientOf(identity)],
    });
    const sealed = await readFile(join(home.path, 'plain.bin.age'));
    const id = newId('op-age');
    const [f] = await storeAndClose(async (store) => [
      await storeFile(store, id, sealed, { ...FILE_META, name: 'plain.bin', declared: 'age' }),
    ]);
    expect(f).toMatchObject({ encrypted: true, sha256: sha256Hex(sealed) });
    expect((await run('show', id)).stdout.toString()).toContain('age-encrypted; --decrypt shows it');
    expect(sha256Hex((await run('cat', id)).stdout)).toBe(sha256Hex(sealed));
    const opened = await run('cat', id, '--decrypt', '--identity', identityFile);
    expect(sha256Hex(opened.stdout)).toBe(sha256Hex(plain));
    const missing = run('cat', id, '--decrypt', '--identity', join(home.path, 'none.txt'));
    expect(await codeOfRejection(missing)).toBe('ERR_NO_IDENTITY');
  });

  test('an id that names no item: ERR_NOT_FOUND from show, cat and rm (exit 1), and rm removes nothing', async () => {
    const id = newId('op-kept');
    const [kept] = await storeAndClose(async (store) => [
      (await store.storeDict({ id, format: 'json', data: Buffer.from('[1]'), sender: 'x:1' })).item,
    ]);
    for (const command of ['show', 'cat', 'rm']) {
      expect(await codeOfRejection(run(command, newId('op-none')))).toBe('ERR_NOT_FOUND');
    }
    // Every id is looked up before anything is removed.
    expect(await codeOfRejection(run('rm', id, newId('op-none')))).toBe('ERR_NOT_FOUND');
    expect(JSON.parse((await run('show', id, '--json')).stdout.toString('utf8'))).toEqual(kept);

    // The real program: the store's options are taken, the exit code is 1, the code is named.
    buildServer();
    const shown = await program(['show', newId('op-none'), ...backend.cliArgs()], home.path);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toContain('(ERR_NOT_FOUND)');
    expect(shown.stderr).not.toContain('unknown option');
    const removed = await program(['rm', id, 'op-none', ...backend.cliArgs()], home.path);
    expect(removed.code).toBe(1);
    expect(removed.stderr).toContain('(ERR_NOT_FOUND)');
    const catted = await program(['cat', id, ...backend.cliArgs()], home.path);
    expect(catted.code).toBe(0);
    expect(catted.stdout.toString()).toBe('[1]');
    expect((await program(['prune', ...backend.cliArgs()], home.path)).code).toBe(2);
  }, 60_000);

  test('rm: receipt and bytes gone, the id unknown to show, cat and list; a running server stores it anew', async () => {
    const dictId = newId('op-rm');
    const fileId = newId('op-rm-file');
    const [d, f] = await storeAndClose(async (store) => [
      (await store.storeDict({ id: dictId, format: 'json', data: Buffer.from('{"v":1}'), sender: 'x:1' })).item,
      await storeFile(store, fileId, randomBytes(1_500_000)),
    ]);
    const server = await startTestServer(backend.serverOptions());
    const client = await connect({ port: server.server.port });
    try {
      // The server has answered these ids before: a retry gets the first receipt.
      expect((await client.sendDict({ v: 1 }, { id: dictId })).duplicate).toBe(true);

      const r = await run('rm', dictId, fileId, '--json');
      expect(r.code).toBe(0);
      expect(jsonLines(r)).toEqual([
        { id: dictId, path: d?.path, outcome: 'removed' },
        { id: fileId, path: f?.path, outcome: 'removed' },
      ]);
      for (const id of [dictId, fileId]) {
        expect(await codeOfRejection(run('show', id))).toBe('ERR_NOT_FOUND');
        expect(await codeOfRejection(run('cat', id))).toBe('ERR_NOT_FOUND');
      }
      const listed = jsonLines(await run('list', '--json', 'op-rm')).map((l) => l.id);
      expect(listed).not.toContain(dictId);
      expect(listed).not.toContain(fileId);
      // Nothing of them is left: no receipt, no item file, no object or chunk.
      expect(await backend.leftovers()).toEqual([]);
      expect(await codeOfRejection(run('rm', dictId))).toBe('ERR_NOT_FOUND');

      // docs/SERVER.md §4: from the removal on, a put of the id is stored anew, by the server already running.
      const again = await client.sendDict({ v: 2 }, { id: dictId });
      expect(again.duplicate).toBe(false);
      expect(again.sha256).not.toBe(d?.sha256);
      // A data directory's server alone on it writes the receipt file just after answering (docs/SERVER.md §5).
      let catted = await run('cat', dictId).catch(() => undefined);
      for (let i = 0; i < 200 && catted === undefined; i++) {
        await new Promise((r) => setTimeout(r, 10));
        catted = await run('cat', dictId).catch(() => undefined);
      }
      if (catted === undefined) throw new Error(`cat ${dictId} found no item after its new put`);
      expect(catted.stdout.toString()).toBe('{"v":2}');
      expect(sha256Hex(catted.stdout)).toBe(again.sha256);
    } finally {
      await client.close();
      await server.stop();
    }
  }, 60_000);

  test('an item whose bytes were lost is missing: show says so, cat fails with ERR_ITEM_MISSING, rm forgets it', async () => {
    const id = newId('op-lost');
    const [f] = await storeAndClose(async (store) => [await storeFile(store, id, randomBytes(300_000))]);
    await backend.loseBytes(f as StoredItem);
    const listed = jsonLines(await run('list', '--json', id));
    expect(listed).toEqual([{ ...f, missing: true }]);
    expect((await run('show', id)).stdout.toString()).toMatch(/^state:\s+missing$/m);
    expect(await codeOfRejection(run('cat', id))).toBe('ERR_ITEM_MISSING');
    expect((await run('rm', id)).code).toBe(0);
    expect(await codeOfRejection(run('show', id))).toBe('ERR_NOT_FOUND');
    expect(await backend.leftovers()).toEqual([]);
  });

  test('a removal names the item as it was read: a receipt stored anew since is kept, with its bytes', async () => {
    const id = newId('op-stale');
    const [old] = await storeAndClose(async (store) => [await storeFile(store, id, randomBytes(200_000))]);
    const setting = backend.serverOptions();
    const catalog = await openItemCatalog(
      { dataDir: setting.dataDir ?? join(home.path, 'data'), ...(setting.store ? { store: setting.store } : {}) },
      { serverId: newServerId(), log: createLogger('silent') },
    );
    try {
      expect(await catalog.find(id)).toEqual(old);
      expect(await catalog.remove(old as StoredItem)).toBe('removed');
      expect(await catalog.find(id)).toBeUndefined();
      const body = randomBytes(300_000);
      const [fresh] = await storeAndClose(async (store) => [await storeFile(store, id, body)]);
      expect(fresh?.path).not.toBe(old?.path);
      // A second `rm` that read the old receipt before the new put: nothing of the new item goes.
      expect(await catalog.remove(old as StoredItem)).toBe('gone');
      expect(await catalog.find(id)).toEqual(fresh);
      expect(await catalog.present(fresh as StoredItem)).toBe(true);
      const parts: Buffer[] = [];
      for await (const part of catalog.openReader((fresh as StoredItem).path, 65_536)) parts.push(part as Buffer);
      expect(sha256Hex(Buffer.concat(parts))).toBe(sha256Hex(body));
      expect(await catalog.remove(fresh as StoredItem)).toBe('removed');
      expect(await backend.leftovers()).toEqual([]);
    } finally {
      await catalog.close();
    }
  });

  test('prune --older-than: --dry-run removes nothing, then the older items of the filter go, others stay', async () => {
    const tag = `op-prune-${randomBytes(3).toString('hex')}`;
    const [d, f] = await storeAndClose(async (store) => [
      (await store.storeDict({ id: `${tag}:d`, format: 'xml', data: Buffer.from('<a/>'), sender: 'x:1' })).item,
      await storeFile(store, `${tag}:f`, randomBytes(1_100_000)),
    ]);
    await new Promise((r) => setTimeout(r, 1100));
    const [young] = await storeAndClose(async (store) => [
      (await store.storeDict({ id: `${tag}:young`, format: 'json', data: Buffer.from('{}'), sender: 'x:1' })).item,
    ]);
    const dry = await run('prune', '--older-than', '1s', '--dry-run', tag);
    expect(dry.stdout.toString()).toMatch(/^would remove 2 items,/m);
    expect(jsonLines(await run('list', '--json', tag))).toEqual([d, f, young]);

    const pruned = await run('prune', '--older-than', '1s', '--json', tag);
    expect(pruned.code).toBe(0);
    expect(jsonLines(pruned)).toEqual([
      { id: d?.id, path: d?.path, outcome: 'removed' },
      { id: f?.id, path: f?.path, outcome: 'removed' },
    ]);
    expect(jsonLines(await run('list', '--json', tag))).toEqual([young]);
    expect(await backend.leftovers()).toEqual([]);
  });
}
