/**
 * One item, sent through the library client (which retries and resumes): a dictionary, or a file (encrypted by
 * the library when asked). For a file, the put id (and an encrypted send's keys) are kept in ./resume-state.ts
 * until its receipt is in, so a second run after the process died resumes the same put. Shared by the scripted
 * commands and the interactive session.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { UsageError } from '@proj/cli-kit';
import type { Dict, DictFormat, EncryptOption, Receipt } from '@proj/protocol';
import type { EncryptMode, EncryptTuning } from './encrypt';
import type { Link } from './link';
import { createProgressBar } from './progress';
import type { SentItem } from './receipt-format';
import type { ResumeState, SendIdentity } from './resume-state';

export interface PutResult {
  receipt: Receipt;
  sent: SentItem;
}

/**
 * Sends `dict` under one put id; the library encodes it once, so every attempt sends the same bytes. Encoding
 * errors (too deep, unsafe integer for binary…) are raised before anything is sent.
 */
export async function putDict(
  link: Link,
  dict: Dict,
  format: DictFormat,
  id: string = randomUUID(),
): Promise<PutResult> {
  const client = await link.open();
  const receipt = await link.call(() =>
    client.sendDict(dict, { format, id, ...(link.signal ? { signal: link.signal } : {}) }),
  );
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
  /** Where the put id is kept across processes; absent: nothing is kept (`--no-resume`, or the interactive menu). */
  state?: ResumeState;
}

/** Sends the file at `path`, encrypted when asked, under one put id across retries and across processes. */
export async function putFile(link: Link, path: string, options: PutFileOptions = {}): Promise<PutResult> {
  const encryption = options.encryption ?? { kind: 'none' };
  const name = options.name ?? basename(path);
  // The first connection is never retried: nobody listening is reported at once (docs/CLIENT.md §7).
  const client = await link.open();
  if (encryption.kind === 'server' && client.recipient === undefined) throw new NoRecipientError(link.address);
  const encrypt = encryptOption(encryption, options.tuning);
  const stats = await stat(path);
  const identity: SendIdentity = {
    path,
    stats,
    server: link.address,
    encryption: describeEncryption(encryption, client.recipient),
  };
  const kept = await options.state?.load(identity);
  const id = options.id ?? kept?.id ?? randomUUID();
  const keptKeys = kept?.id === id ? kept.keys : undefined;
  let resumedFrom = 0;
  const stopResume = client.on('resume', (e) => {
    if (e.id === id) resumedFrom = e.offset;
  });
  const stopRestart = client.on('restart', (e) => {
    if (e.id === id) resumedFrom = 0;
  });
  const bar = createProgressBar(name, stats.size, options.progressStream ?? process.stderr);
  try {
    if (options.state && !encrypt) await options.state.save(identity, { id });
    const receipt = await link.call(() =>
      client.sendFile(path, {
        id,
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(encrypt ? { encrypt } : {}),
        ...(keptKeys ? { encryptionKeys: keptKeys } : {}),
        // Kept before the first byte goes out: a second run sends the same ciphertext and resumes.
        onEncryptionKeys: async (keys) => {
          await options.state?.save(identity, { id, keys });
        },
        onProgress: (p) => bar.update({ sent: p.sent, total: p.total ?? stats.size }),
        ...(link.signal ? { signal: link.signal } : {}),
      }),
    );
    await options.state?.remove(identity);
    const mode = encryption.kind === 'server' ? 'recipients' : encryption.kind;
    const sent: SentItem = {
      source: path,
      ...(mode !== 'none' ? { encryptedWith: mode === 'recipients' ? 'recipient' : 'passphrase' } : {}),
      ...(encrypt ? { plainBytes: stats.size } : {}),
      ...(resumedFrom > 0 ? { resumedFrom } : {}),
    };
    return { receipt, sent };
  } catch (err) {
    // A refusal is final: forget the put. A lost connection or Ctrl-C keeps it for the next run to resume.
    if (options.state && isFinal(err)) await options.state.remove(identity);
    throw err;
  } finally {
    bar.done();
    stopResume();
    stopRestart();
  }
}

function encryptOption(encryption: FileEncryption, tuning: EncryptTuning = {}): EncryptOption | undefined {
  switch (encryption.kind) {
    case 'none':
      return undefined;
    case 'server':
      return true;
    case 'recipients':
      return { recipients: encryption.recipients };
    case 'passphrase':
      return {
        passphrase: encryption.passphrase,
        ...(tuning.scryptWorkFactor !== undefined ? { scryptWorkFactor: tuning.scryptWorkFactor } : {}),
      };
  }
}

/** How the file is encrypted, as part of what identifies the send (never the passphrase itself). */
function describeEncryption(encryption: FileEncryption, serverRecipient: string | undefined): string {
  if (encryption.kind === 'server') return `recipients:${serverRecipient ?? ''}`;
  if (encryption.kind === 'recipients') return `recipients:${[...encryption.recipients].sort().join(',')}`;
  return encryption.kind;
}

/** True when the server answered for good (a refusal, a receipt mismatch): retrying the same put cannot help. */
function isFinal(err: unknown): boolean {
  return (err as { remote?: boolean }).remote === true || (err as { code?: unknown }).code === 'ERR_RECEIPT_MISMATCH';
}

/** `--encrypt` without `--recipient`, and the server announced no recipient. */
export class NoRecipientError extends UsageError {
  constructor(address: string) {
    super(`the server at ${address} announces no age recipient; pass --recipient age1… or use --passphrase-file`);
    this.name = 'NoRecipientError';
  }
}
