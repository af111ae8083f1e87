/**
 * One item, sent with retries: a dictionary, or a file (encrypted first when asked). Shared by the scripted
 * commands and the interactive session.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { UsageError } from '@proj/cli-kit';
import type { Receipt, SentDigest } from '@proj/protocol';
import { encodeDict, type Dict, type DictFormat } from '@proj/protocol/dict';
import { encryptedSource, type EncryptMode, type EncryptTuning } from './encrypt';
import { createProgressBar } from './progress';
import type { SentItem } from './receipt-format';
import type { Link } from './link';

export interface PutResult {
  receipt: Receipt;
  sent: SentItem;
}

/**
 * Encodes `dict` once (so every attempt sends the same bytes) and sends it under one put id.
 * Encoding errors (too deep, unsafe integer for binary…) are raised before anything is sent.
 */
export async function putDict(
  link: Link,
  dict: Dict,
  format: DictFormat,
  id: string = randomUUID(),
): Promise<PutResult> {
  const client = await link.open();
  const { maxDictDepth, maxDictBytes } = client.welcome.limits;
  const bytes = encodeDict(dict, format, { maxDictDepth, maxDictBytes });
  const receipt = await link.run((c) => c.sendDictBytes(bytes, format, id));
  return { receipt, sent: { source: 'dict' } };
}

export type FileEncryption = { kind: 'none' } | { kind: 'server' } | EncryptMode;

export interface PutFileOptions {
  id?: string;
  /** Name to give the server; default the path's base name. */
  name?: string;
  encryption?: FileEncryption;
  /** Where the progress bar goes (drawn only when it is a terminal). */
  progressStream?: NodeJS.WriteStream;
  tuning?: EncryptTuning;
}

/** Sends the file at `path`, encrypted as it goes when asked, under one put id across retries. */
export async function putFile(link: Link, path: string, options: PutFileOptions = {}): Promise<PutResult> {
  const id = options.id ?? randomUUID();
  const name = options.name ?? basename(path);
  const encryption = options.encryption ?? { kind: 'none' };
  let mode: EncryptMode | undefined;
  // The first connection is never retried: nobody listening is reported at once (docs/CLIENT.md §7).
  const client = await link.open();
  if (encryption.kind === 'server') {
    const recipient = client.recipient;
    if (recipient === undefined) throw new NoRecipientError(link.address);
    mode = { kind: 'recipients', recipients: [recipient] };
  } else if (encryption.kind !== 'none') {
    mode = encryption;
  }
  const encrypted = mode ? await encryptedSource(path, mode, options.tuning) : undefined;
  // What attempts sent in full, for a retry answered with the receipt of one of them (see ./encrypt.ts).
  const sentInFull: SentDigest[] = [];
  const size = encrypted ? encrypted.approxBytes : (await stat(path)).size;
  const receipt = await link.run(async (client) => {
    const bar = createProgressBar(name, size, options.progressStream ?? process.stderr);
    try {
      if (!encrypted)
        return await client.sendFile(path, { id, name, encryption: 'none', onProgress: (p) => bar.update(p) });
      // Encrypted as it is sent; its exact size is not known before the end.
      return await client.sendStream(() => encrypted.open(), {
        id,
        name: /\.age$/i.test(name) ? name : `${name}.age`,
        encryption: 'age',
        earlierAttempts: sentInFull,
        onSent: (digest) => sentInFull.push(digest),
        onProgress: (p) => bar.update({ sent: p.sent, total: size }),
      });
    } finally {
      bar.done();
    }
  });
  const sent: SentItem = {
    source: path,
    ...(mode ? { encryptedWith: mode.kind === 'recipients' ? ('recipient' as const) : ('passphrase' as const) } : {}),
    ...(encrypted ? { plainBytes: encrypted.plainBytes } : {}),
  };
  return { receipt, sent };
}

/** `--encrypt` without `--recipient`, and the server announced no recipient. */
export class NoRecipientError extends UsageError {
  constructor(address: string) {
    super(`the server at ${address} announces no age recipient; pass --recipient age1… or use --passphrase-file`);
    this.name = 'NoRecipientError';
  }
}
