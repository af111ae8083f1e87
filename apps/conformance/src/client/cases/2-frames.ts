/**
 * Client mode, docs/PROTOCOL.md §2 Frames: a client reads frames however TCP splits them, and writes data frames
 * within the limit the welcome announced.
 */
import { encodeControlFrame } from '@proj/protocol/wire';
import { check, type Section } from '../../case';
import { dictJob, expectAcknowledged, scenario, welcomeWith, type ClientContext } from '../context';

/** Client runs at once while the welcome is split at every offset. */
const PARALLEL = 4;

export const frames: Section<ClientContext> = {
  id: '2',
  title: 'Frames',
  cases: [
    {
      id: '2.1',
      title: 'the welcome split in two at every offset: the client completes its put each time',
      spec: 'a receiver must handle a frame split across any number of reads',
      run: async (ctx) => {
        const length = encodeControlFrame(welcomeWith(ctx)).length;
        const offsets = Array.from({ length: length - 1 }, (_, i) => i + 1);
        const failures: string[] = [];
        for (let at = 0; at < offsets.length; at += PARALLEL) {
          await Promise.all(
            offsets.slice(at, at + PARALLEL).map(async (offset) => {
              const job = await dictJob(ctx, { split: offset });
              const o = await scenario(ctx, { welcomePieces: () => [offset] }, (port) =>
                ctx.driver.sendDict('127.0.0.1', port, job),
              );
              try {
                expectAcknowledged(o);
              } catch (err) {
                failures.push(`split at ${offset}: ${(err as Error).message}`);
              }
            }),
          );
        }
        check(
          failures.length === 0,
          () => `${failures.length} of ${offsets.length} splits failed:\n${failures.slice(0, 3).join('\n')}`,
        );
      },
    },
    {
      id: '2.2',
      title: 'the welcome one byte per write: the client completes its put',
      spec: 'a receiver must handle a frame split across any number of reads',
      run: async (ctx) => {
        const length = encodeControlFrame(welcomeWith(ctx)).length;
        const job = await dictJob(ctx, { bytes: 'one by one' });
        const o = await scenario(ctx, { welcomePieces: () => Array<number>(length).fill(1) }, (port) =>
          ctx.driver.sendDict('127.0.0.1', port, job),
        );
        expectAcknowledged(o);
      },
    },
    {
      id: '2.3',
      title: "a dictionary's data frames stay within the welcome's maxFrameBytes",
      spec: 'A receiver checks `length` against its frame limit (`maxFrameBytes`, section 6)',
      run: async (ctx) => {
        const job = await dictJob(ctx, { text: 'x'.repeat(5000), list: Array.from({ length: 200 }, (_, i) => i) });
        const o = await scenario(ctx, { welcome: welcomeWith(ctx, { maxFrameBytes: 1000 }) }, (port) =>
          ctx.driver.sendDict('127.0.0.1', port, job),
        );
        expectAcknowledged(o);
      },
    },
  ],
};
