/**
 * How a receipt is shown: one JSON line for scripts (`--json`), one readable line for people, and a short
 * block in the interactive session. A receipt reaches these functions only after the client library checked its
 * size and SHA-256 against what was sent, so "matches" is a fact, not a hope.
 */
import { formatBytes } from '@proj/cli-kit';
import type { Receipt } from '@proj/protocol';
import { STDIN_PATH } from './stdin';

/** What was sent, to print beside the server's answer. */
export interface SentItem {
  /** `dict`, or the local path of the file. */
  source: string;
  /** For an encrypted file: `recipient` or `passphrase`. */
  encryptedWith?: 'recipient' | 'passphrase';
  /** Bytes of the plaintext file, when encryption changed the size. */
  plainBytes?: number;
  /** Bytes the server already held from an earlier, cut attempt (not sent again). */
  resumedFrom?: number;
}

/** The `--json` line: stable field names, documented in docs/CLIENT.md. */
export interface ReceiptJson {
  ok: true;
  id: string;
  kind: 'dict' | 'file';
  path: string;
  bytes: number;
  sha256: string;
  format?: string;
  encrypted: boolean;
  duplicate: boolean;
  receivedAt: string;
  /** The size and SHA-256 in the receipt equal those of the bytes sent. Always true in a printed receipt. */
  verified: true;
  source: string;
  plainBytes?: number;
  /** Bytes the server held from a cut attempt, which this send continued (absent when sent whole). */
  resumedFrom?: number;
}

export function receiptJson(receipt: Receipt, sent: SentItem): ReceiptJson {
  return {
    ok: true,
    id: receipt.id,
    kind: receipt.kind,
    path: receipt.path,
    bytes: receipt.bytes,
    sha256: receipt.sha256,
    ...(receipt.format !== undefined ? { format: receipt.format } : {}),
    encrypted: receipt.encrypted,
    duplicate: receipt.duplicate,
    receivedAt: receipt.receivedAt,
    verified: true,
    source: sent.source,
    ...(sent.plainBytes !== undefined ? { plainBytes: sent.plainBytes } : {}),
    ...(sent.resumedFrom !== undefined ? { resumedFrom: sent.resumedFrom } : {}),
  };
}

/** The one-line form: `sent notes.txt -> files/2025/…/notes.txt (1.2 KiB, sha256 3f2a…c9e1, matches)`. */
export function receiptLine(receipt: Receipt, sent: SentItem): string {
  // `send-file -`: "sent -" would say nothing; the stored name (--name) is in the path that follows.
  const source = sent.source === STDIN_PATH ? 'standard input' : sent.source;
  const what = receipt.kind === 'dict' ? `dictionary (${receipt.format ?? 'json'})` : source;
  const extras = [
    formatBytes(receipt.bytes),
    `sha256 ${receipt.sha256}`,
    'checksum matches',
    ...(receipt.encrypted ? ['encrypted'] : []),
    ...(receipt.duplicate ? ['already stored earlier under this id'] : []),
    ...(sent.resumedFrom ? [`resumed after ${formatBytes(sent.resumedFrom)}`] : []),
  ];
  return `sent ${what} -> ${receipt.path} (${extras.join(', ')}) id ${receipt.id}`;
}

/** The block shown after a send in the interactive session. */
export function receiptBlock(receipt: Receipt, sent: SentItem): string {
  const rows: [string, string][] = [
    ['stored at', `${receipt.path}  (in the server's data directory)`],
    ['size', `${formatBytes(receipt.bytes)} (${receipt.bytes} bytes)${receipt.encrypted ? ', encrypted' : ''}`],
    ['sha256', receipt.sha256],
    ['check', 'size and checksum match what was sent'],
    ['id', receipt.id],
    ['received', receipt.receivedAt],
  ];
  if (receipt.format !== undefined) rows.splice(1, 0, ['format', formatName(receipt.format)]);
  if (sent.encryptedWith)
    rows.push(['encrypted', sent.encryptedWith === 'recipient' ? "to the server's key" : 'with a passphrase']);
  if (receipt.duplicate) rows.push(['note', 'the server already held this id; nothing new was stored']);
  if (sent.resumedFrom) rows.push(['resumed', `after ${formatBytes(sent.resumedFrom)} the server already held`]);
  return ['Receipt', ...rows.map(([k, v]) => `  ${k.padEnd(9)} ${v}`)].join('\n');
}

/** `protobuf` is shown as `binary`, the name the options use. */
export function formatName(format: string): string {
  return format === 'protobuf' ? 'binary (protobuf)' : format.toUpperCase();
}
