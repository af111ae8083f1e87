/** What the scripted commands print as they go: a receipt line per item sent, a notice per retry. */
import { NOTICE_PENDING_APPROVAL, type Notice } from '@proj/protocol';
import type { Io } from '../cli-io';
import { describeError } from '../errors';
import type { RetryEvent } from '../link';
import type { ConnectionFlags } from '../options';
import type { PutResult } from '../put';
import { receiptJson, receiptLine } from '../receipt-format';

/** The receipt on standard output: one JSON line with `--json`, one readable line otherwise, none with `--quiet`. */
export function printReceipt(io: Io, flags: ConnectionFlags, result: PutResult): void {
  if (flags.quiet && !flags.json) return;
  const line = flags.json
    ? JSON.stringify(receiptJson(result.receipt, result.sent))
    : receiptLine(result.receipt, result.sent);
  io.stdout.write(`${line}\n`);
}

/** Tells on standard error that the connection was lost and when the put is sent again (not with `--quiet`). */
export function retryNotice(io: Io, flags: ConnectionFlags = {}): (event: RetryEvent) => void {
  return ({ attempt, retries, delayMs, error }) => {
    if (flags.quiet) return;
    io.stderr.write(
      `connection lost (${describeError(error)}); retry ${attempt} of ${retries} in ${(delayMs / 1000).toFixed(1)} s with the same put id\n`,
    );
  };
}

/**
 * Tells on standard error what the server said about a waiting put (docs/PROTOCOL.md §4, "Notices"): that the
 * operator decides, and for how long at most. Notices of codes this client does not know are not shown.
 */
export function noticeLine(io: Io): (notice: Notice) => void {
  return (notice) => {
    if (notice.code !== NOTICE_PENDING_APPROVAL) return;
    const upTo = notice.timeoutMs !== undefined ? ` (up to ${Math.ceil(notice.timeoutMs / 1000)} s)` : '';
    io.stderr.write(`waiting for the operator to approve…${upTo}\n`);
  };
}
