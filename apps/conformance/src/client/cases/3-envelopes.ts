/**
 * Client mode, docs/PROTOCOL.md §3 Envelopes: what a client sends is valid client envelopes (checked in every
 * case); it ignores names it does not know in a welcome, and it checks every receipt against what it sent.
 */
import type { Section } from '../../case';
import {
  dictJob,
  expectAcknowledged,
  expectFailed,
  fileJob,
  scenario,
  welcomeWith,
  type ClientContext,
} from '../context';

export const envelopes: Section<ClientContext> = {
  id: '3',
  title: 'Envelopes',
  cases: [
    {
      id: '3.1',
      title: 'a dictionary put: hello, put_dict and its data are valid envelopes and frames',
      spec: 'Objects are strict: a field not listed here (names are case-sensitive) is `ERR_BAD_MESSAGE`',
      run: async (ctx) => {
        const job = await dictJob(ctx, { name: 'Ada', n: 1815 });
        expectAcknowledged(await scenario(ctx, {}, (port) => ctx.driver.sendDict('127.0.0.1', port, job)));
      },
    },
    {
      id: '3.2',
      title: 'format and encryption names the client does not know are ignored',
      spec: 'A client ignores format and encryption names it does not know.',
      run: async (ctx) => {
        const base = welcomeWith(ctx);
        const encryption = base.encryption as { accepts: string[] };
        const welcome = {
          ...base,
          formats: ['json', 'xml', 'protobuf', 'yaml-from-the-future'],
          encryption: { ...encryption, accepts: [...encryption.accepts, 'pgp-from-the-future'] },
        };
        const job = await dictJob(ctx, { future: true });
        expectAcknowledged(await scenario(ctx, { welcome }, (port) => ctx.driver.sendDict('127.0.0.1', port, job)));
      },
    },
    {
      id: '3.3',
      title: 'a dictionary receipt with another SHA-256 than the bytes sent fails the put',
      spec: 'A client checks both against what it sent; a mismatch means the item under that id is not the one it meant (`ERR_RECEIPT_MISMATCH`).',
      run: async (ctx) => {
        const job = await dictJob(ctx, { receipt: 'wrong sha256' });
        const o = await scenario(ctx, { dict: () => 'wrong-sha256' }, (port) =>
          ctx.driver.sendDict('127.0.0.1', port, job),
        );
        expectFailed(o, 'ERR_RECEIPT_MISMATCH');
      },
    },
    {
      id: '3.4',
      title: 'a dictionary receipt with another byte count than the bytes sent fails the put',
      spec: 'A client checks both against what it sent; a mismatch means the item under that id is not the one it meant (`ERR_RECEIPT_MISMATCH`).',
      run: async (ctx) => {
        const job = await dictJob(ctx, { receipt: 'wrong bytes' });
        const o = await scenario(ctx, { dict: () => 'wrong-bytes' }, (port) =>
          ctx.driver.sendDict('127.0.0.1', port, job),
        );
        expectFailed(o, 'ERR_RECEIPT_MISMATCH');
      },
    },
    {
      id: '3.5',
      title: 'a file receipt with another SHA-256 than the bytes sent fails the put',
      spec: 'A client checks both against what it sent; a mismatch means the item under that id is not the one it meant (`ERR_RECEIPT_MISMATCH`).',
      run: async (ctx) => {
        const { job } = await fileJob(ctx, 3000);
        const o = await scenario(ctx, { file: () => 'wrong-sha256' }, (port) =>
          ctx.driver.sendFile('127.0.0.1', port, job),
        );
        expectFailed(o, 'ERR_RECEIPT_MISMATCH');
      },
    },
  ],
};
