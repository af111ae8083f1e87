import { existsSync } from 'node:fs';
import { startServerInTempDir } from '../src/index';

const coded = (code: string): Error => Object.assign(new Error('x'), { code });

describe('startServerInTempDir', () => {
  test('port 0 and a fresh directory unless one is given; removeDir removes only its own', async () => {
    const seen: Array<{ port: number; dataDir: string; quiet?: boolean }> = [];
    const start = async (o: { port: number; dataDir: string; quiet?: boolean }) => {
      seen.push(o);
      return { port: 1234 };
    };
    const fresh = await startServerInTempDir(start, { quiet: true }, 'test-utils-it-');
    expect(fresh.server).toEqual({ port: 1234 });
    expect(seen[0]).toEqual({ port: 0, quiet: true, dataDir: fresh.dataDir });
    expect(existsSync(fresh.dataDir)).toBe(true);
    await fresh.removeDir();
    expect(existsSync(fresh.dataDir)).toBe(false);

    const given = await startServerInTempDir(start, { dataDir: __dirname }, 'test-utils-it-');
    expect(seen[1]).toEqual({ port: 0, dataDir: __dirname });
    await given.removeDir();
    expect(existsSync(__dirname)).toBe(true);
  });

  test('a start that throws leaves no directory behind', async () => {
    let dataDir = '';
    const failing = async (o: { dataDir: string }): Promise<never> => {
      dataDir = o.dataDir;
      throw coded('ERR_USAGE');
    };
    await expect(startServerInTempDir(failing, {}, 'test-utils-it-')).rejects.toMatchObject({ code: 'ERR_USAGE' });
    expect(dataDir).not.toBe('');
    expect(existsSync(dataDir)).toBe(false);
  });
});
