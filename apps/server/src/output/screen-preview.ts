/**
 * What the screen shows of a stored file (./output.ts prints it): its first SCREEN_MAX_BYTES, read back from the
 * store and decrypted when the server can, as text; or a note saying why not (binary, not decryptable, not
 * readable).
 */
import { decryptHead, type Keys } from '../keys';
import { codeOf } from '../error-code';
import { SCREEN_MAX_BYTES, type FileContent } from './output';
import type { ItemReader } from '../store/item-store';
import type { StoredItem } from '../store/receipts';

/** An age file is read back in pieces of this size to decrypt its head. */
const DECRYPT_READ_BYTES = 256 * 1024;

/**
 * The content to show of `item`. `decryptFailure`: the code of the error that kept the store from decrypting it,
 * if it tried.
 */
export async function filePreview(
  item: StoredItem,
  decryptFailure: string | undefined,
  store: ItemReader,
  keys: Keys,
): Promise<FileContent> {
  let head: Buffer;
  let more: boolean;
  let decrypted = false;
  try {
    if (item.encrypted && item.plaintextPath) {
      ({ head, more } = await store.readHead(item.plaintextPath, SCREEN_MAX_BYTES));
      decrypted = true;
    } else if (item.encrypted) {
      if (!keys.canDecrypt) return { kind: 'note', note: 'age-encrypted; decryption is turned off on this server' };
      if (decryptFailure)
        return { kind: 'note', note: `age-encrypted; this server cannot decrypt it (${decryptFailure})` };
      ({ head, more } = await decryptHead(keys, store.openReader(item.path, DECRYPT_READ_BYTES), SCREEN_MAX_BYTES));
      decrypted = true;
    } else {
      ({ head, more } = await store.readHead(item.path, SCREEN_MAX_BYTES));
    }
  } catch (err) {
    const code = codeOf(err);
    if (item.encrypted) return { kind: 'note', note: `age-encrypted; this server cannot decrypt it (${code})` };
    return { kind: 'note', note: `cannot read it back (${code})` };
  }
  const text = textOf(head);
  if (text === undefined)
    return { kind: 'note', note: `binary content${decrypted ? ' after decryption' : ''}, not shown` };
  return { kind: 'text', text, more, decrypted };
}

/** Text to show for `head`, or undefined when it looks binary (NUL bytes or invalid UTF-8 beyond a cut character). */
function textOf(head: Buffer): string | undefined {
  if (head.includes(0)) return undefined;
  // A cut at 64 KiB may split one character: allow up to 3 bytes of it at the end.
  for (let cut = 0; cut <= 3 && cut <= head.length; cut++) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - cut));
    } catch {
      // try a shorter cut
    }
  }
  return undefined;
}
