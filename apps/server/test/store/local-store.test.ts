/** The store suite (./store-suite.ts) against the data directory: two stores are two servers sharing it. */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { listFiles, makeTempDir } from '@proj/test-utils';
import { createLogger } from '../../src/logger';
import { newServerId } from '../../src/store/paths';
import { listReceived } from '../../src/store/receipts';
import { Store } from '../../src/store/store';
import { storeSuite } from './store-suite';

let dir: { path: string; remove: () => Promise<void> } | undefined;
const dataDir = (): string => (dir as { path: string }).path;
const log = createLogger('silent');

storeSuite('local', {
  skipReason: () => undefined,
  setup: async () => {
    dir = await makeTempDir('store-suite-');
  },
  teardown: async () => {
    await dir?.remove();
  },
  open: () => Store.open(dataDir(), newServerId(), log),
  serverOptions: () => ({ dataDir: dataDir() }),
  leftovers: async () => {
    const named = new Set<string>();
    for (const item of await listReceived(dataDir())) {
      named.add(item.path);
      if (item.plaintextPath) named.add(item.plaintextPath);
    }
    const temps = (await readdir(join(dataDir(), 'tmp'))).map((n) => `tmp/${n}`);
    const items = (await listFiles(join(dataDir(), 'items'))).map((p) => `items/${p}`).filter((p) => !named.has(p));
    return [...temps, ...items];
  },
  collect: async () => {
    // A server's start collects what stopped servers left behind.
    const store = await Store.open(dataDir(), newServerId(), log);
    await store.close();
  },
  cliArgs: () => ['--data-dir', dataDir()],
  loseBytes: (item) => unlink(join(dataDir(), item.path)),
});
