/**
 * The worker thread of ./materialiser.ts: creates the files of acknowledged items (a dictionary's item file, then
 * its receipt file) that the main thread hands it in batches, and answers each batch with what failed. Nothing
 * here decides anything: the order, the retries and the journal's checkpoints stay with the materialiser.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createFile } from './durable';

/** One item's files, as the main thread hands them over. */
export interface FileWork {
  /** The item file to create with `data` (a dictionary); absent when only the receipt is left to write. */
  itemPath?: string;
  data?: Uint8Array;
  receiptPath: string;
  receiptText: string;
  /**
   * Set when this work was tried before and may have got further than its answer said (the worker that tried it
   * stopped): a file that exists already is then the one this work made (names are this server's own).
   */
  retry?: boolean;
}

/** The answer to a batch: the works that failed, by index, and whether their item file was made. */
export interface BatchResult {
  seq: number;
  failed: Array<{ index: number; itemWritten: boolean; message: string; code?: string }>;
}

/** Creates one work's files; throws what failed, with `itemWritten` set on the error when the item file is made. */
export function writeWork(work: FileWork): void {
  let itemWritten = work.itemPath === undefined;
  try {
    if (work.itemPath !== undefined) {
      create(work.itemPath, work.data as Uint8Array, work.retry);
      itemWritten = true;
    }
    create(work.receiptPath, work.receiptText, work.retry);
  } catch (err) {
    throw Object.assign(err as Error, { itemWritten });
  }
}

function create(path: string, data: string | Uint8Array, retry: boolean | undefined): void {
  try {
    createFile(path, data);
  } catch (err) {
    if (!(retry && (err as NodeJS.ErrnoException).code === 'EEXIST')) throw err;
  }
}

// Only in the thread ./materialiser.ts starts (the main thread imports `writeWork` from here).
if ((workerData as { materialiser?: boolean } | null)?.materialiser)
  parentPort?.on('message', ({ seq, works }: { seq: number; works: FileWork[] }) => {
    const failed: BatchResult['failed'] = [];
    works.forEach((work, index) => {
      try {
        writeWork(work);
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { itemWritten: boolean };
        failed.push({ index, itemWritten: e.itemWritten, message: e.message, ...(e.code ? { code: e.code } : {}) });
      }
    });
    parentPort?.postMessage({ seq, failed } satisfies BatchResult);
  });
