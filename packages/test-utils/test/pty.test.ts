import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listFiles, makeTempDir, Pty, sha256File, sha256Hex, stripAnsi } from '../src/index';

describe('test-utils', () => {
  test('stripAnsi removes colour and cursor sequences', () => {
    expect(stripAnsi('\u001b[32m✔\u001b[39m name \u001b[2K\u001b[1G· Ada')).toBe('✔ name · Ada');
  });

  test('listFiles and sha256File see real files', async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, 'b.txt'), 'hello\n');
      expect(await listFiles(dir.path)).toEqual(['b.txt']);
      expect(await sha256File(join(dir.path, 'b.txt'))).toBe(sha256Hex('hello\n'));
    } finally {
      await dir.remove();
    }
  });

  test('Pty gives the program a terminal, and expect/write drive it', async () => {
    const script =
      "process.stdout.write('tty=' + process.stdin.isTTY + ' name? '); process.stdin.once('data', d => { console.log('hi ' + d.toString().trim()); process.exit(7) })";
    const pty = new Pty(process.execPath, ['-e', script]);
    await pty.expect('tty=true name? ');
    pty.write('Ada\r');
    await pty.expect('hi Ada');
    expect(await pty.exited).toBe(7);
  });
});
