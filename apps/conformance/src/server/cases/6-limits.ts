/**
 * docs/PROTOCOL.md §6 Limits: the welcome announces the five limits the server enforces, and each is reached
 * without a refusal (a data frame of exactly `maxFrameBytes`, a dictionary of exactly `maxDictBytes`, a file of
 * exactly `maxFileBytes`). One past each is refused: cases 2.4, 4.5.3, 5.1.4-5.1.6, 4.6.5 and 4.7.3; silence
 * past `idleTimeoutMs`: case 4.13.1.
 */
import { check, show, Skip, type Section } from '../../case';
import { canSend, type ServerContext } from '../context';
import { expectMessage } from '../expect';
import { putDict, putFile, withSession } from '../steps';

export const limits: Section<ServerContext> = {
  id: '6',
  title: 'Limits',
  cases: [
    {
      id: '6.1',
      title: 'the welcome announces all five limits as ints',
      spec: 'The server announces the limits it enforces in `welcome.limits`.',
      run: async (ctx) => {
        const l = ctx.welcome.limits as unknown as Record<string, unknown>;
        for (const key of ['maxFrameBytes', 'maxDictBytes', 'maxDictDepth', 'maxFileBytes', 'idleTimeoutMs']) {
          check(Number.isSafeInteger(l[key]), () => `welcome.limits.${key} must be an int, got ${show(l[key])}`);
        }
      },
    },
    {
      id: '6.2',
      title: 'a data frame of exactly maxFrameBytes is taken',
      spec: '`maxFrameBytes` | 1048576 (1 MiB) | largest frame payload; bounds every data chunk',
      run: async (ctx) => {
        const max = ctx.welcome.limits.maxFrameBytes;
        if (max > ctx.welcome.limits.maxFileBytes) throw new Skip('maxFrameBytes is over maxFileBytes');
        canSend(ctx, max, 'a frame of maxFrameBytes');
        await withSession(ctx, async (conn) => {
          const body = Buffer.alloc(max, 0x5a);
          await putFile(conn, ctx, { id: ctx.ids.next('full-frame'), name: 'full-frame.bin', body, pieces: [max] });
        });
      },
    },
    {
      id: '6.3',
      title: 'a dictionary of exactly maxDictBytes is stored',
      spec: '`maxDictBytes` | 1048576 (1 MiB) | largest encoded dictionary',
      run: async (ctx) => {
        const max = ctx.welcome.limits.maxDictBytes;
        canSend(ctx, max, 'a dictionary of maxDictBytes');
        const head = '{"padding":"';
        if (max < head.length + 2) throw new Skip('maxDictBytes is too small for a JSON dictionary');
        const body = Buffer.from(`${head}${'p'.repeat(max - head.length - 2)}"}`);
        await withSession(ctx, async (conn) => {
          await putDict(conn, ctx, { id: ctx.ids.next('full-dict'), format: 'json', body });
        });
      },
    },
    {
      id: '6.4',
      title: 'put_file of exactly maxFileBytes is answered ready',
      spec: '`maxFileBytes` | 4294967296 (4 GiB) | largest file',
      run: (ctx) =>
        withSession(ctx, async (conn) => {
          const id = ctx.ids.next('full-file');
          await conn.send({ type: 'put_file', id, name: 'full.bin', size: ctx.welcome.limits.maxFileBytes });
          const ready = await expectMessage(conn, ctx, 'ready');
          check(ready.id === id, () => `expected ready for ${id}, got ${show(ready)}`);
          await conn.send({ type: 'cancel', id });
        }),
    },
    {
      id: '6.5',
      title: 'a file of exactly maxFileBytes is stored',
      spec: '`maxFileBytes` | 4294967296 (4 GiB) | largest file',
      run: async (ctx) => {
        const max = ctx.welcome.limits.maxFileBytes;
        canSend(ctx, max, 'a file of maxFileBytes');
        await withSession(ctx, async (conn) => {
          await putFile(conn, ctx, { id: ctx.ids.next('max-file'), name: 'max.bin', body: Buffer.alloc(max, 0x41) });
        });
      },
    },
  ],
};
