/**
 * `show ID`: one item's receipt, its state (are its bytes still in the store), and as much of its content as the
 * screen shows of a new item (../output/output.ts): a dictionary as indented JSON, a text file's head, decrypted
 * with `--decrypt` (the server's identity file) when it is an age file. Client text is shown inert.
 */
import { decodeDict } from '@proj/protocol/dict';
import { EXIT_OK, type CliIo } from '../cli-io';
import { codeOf } from '../error-code';
import type { Keys } from '../keys';
import { jsonHead } from '../output/json-head';
import { formatBytes, SCREEN_BLOCK_MAX_BYTES, SCREEN_MAX_BYTES, type FileContent } from '../output/output';
import { jsonSafe, printable, quoted } from '../output/printable';
import { filePreview } from '../output/screen-preview';
import { screenText } from '../output/screen-text';
import type { ItemCatalog } from '../store/item-store';
import type { StoredItem } from '../store/receipts';
import { itemById, type OperatorOptions, operatorKeys, operatorOptions, withCatalog } from './item-access';
import { itemKind, itemName } from './item-table';

/** Deepest dictionary `show` decodes: stored ones passed the server's limit (32 by default) when they came. */
const SHOW_MAX_DEPTH = 1000;

export async function showCommand(id: string, flags: Record<string, unknown>, io: CliIo): Promise<number> {
  const options = await operatorOptions(flags, io);
  return withCatalog(options, async (catalog) => {
    const item = await itemById(catalog, id);
    const present = await catalog.present(item);
    if (flags.json) {
      io.stdout.write(`${jsonSafe(JSON.stringify(present ? item : { ...item, missing: true }))}\n`);
      return EXIT_OK;
    }
    io.stdout.write(receiptLines(item, present));
    if (!present) {
      io.stdout.write("(the item's file is missing: deleted by hand? `server rm` forgets its receipt)\n");
      return EXIT_OK;
    }
    const lines =
      item.kind === 'dict'
        ? await dictContent(catalog, item)
        : fileContent(await filePreviewFor(item, catalog, options, flags.decrypt === true));
    io.stdout.write(`${lines.join('\n')}\n`);
    return EXIT_OK;
  });
}

function receiptLines(item: StoredItem, present: boolean): string {
  const rows: [string, string][] = [
    ['id', printable(item.id)],
    ['kind', itemKind(item)],
    ['name', item.kind === 'file' ? quoted(itemName(item)) : itemName(item)],
    ['size', `${formatBytes(item.bytes)} (${item.bytes} bytes)`],
    ['sha256', item.sha256],
    ['received', `${item.receivedAt} from ${printable(item.sender)}`],
    ['path', printable(item.path)],
    ...(item.plaintextPath ? ([['plaintext', printable(item.plaintextPath)]] as [string, string][]) : []),
    ['server', printable(item.serverId ?? '?')],
    ['state', present ? 'ok' : 'missing'],
    ...(item.rebuilt
      ? ([['rebuilt', `${item.rebuilt.at} (sha256 from the ${item.rebuilt.shaFrom})`]] as [string, string][])
      : []),
  ];
  return rows.map(([k, v]) => `${`${k}:`.padEnd(11)}${v}\n`).join('');
}

async function dictContent(catalog: ItemCatalog, item: StoredItem): Promise<string[]> {
  try {
    const parts: Buffer[] = [];
    for await (const part of catalog.openReader(item.path, 256 * 1024)) parts.push(part as Buffer);
    const bytes = Buffer.concat(parts);
    const dict = decodeDict(bytes, item.format ?? 'json', { maxDictBytes: bytes.length, maxDictDepth: SHOW_MAX_DEPTH });
    const head = jsonHead(dict, SCREEN_MAX_BYTES);
    const shown = screenText(head.text, SCREEN_BLOCK_MAX_BYTES);
    return [
      shown.block,
      ...(head.complete && shown.complete
        ? []
        : [
            `(shown: the first ${formatBytes(shown.shownBytes)} of its JSON; \`server cat ${printable(item.id)}\` gives all)`,
          ]),
    ];
  } catch (err) {
    return [`(cannot show it: ${codeOf(err)})`];
  }
}

async function filePreviewFor(
  item: StoredItem,
  catalog: ItemCatalog,
  options: OperatorOptions,
  decrypt: boolean,
): Promise<FileContent> {
  if (item.encrypted && !item.plaintextPath) {
    if (!decrypt) return { kind: 'note', note: "age-encrypted; --decrypt shows it with the server's identity" };
    return filePreview(item, undefined, catalog, await operatorKeys(options));
  }
  // Keys are read only for an age file without a saved plaintext, which is not this one.
  return filePreview(item, undefined, catalog, { canDecrypt: false } as Keys);
}

function fileContent(content: FileContent): string[] {
  if (content.kind === 'note') return [`(${printable(content.note)})`];
  const shown = screenText(content.text, SCREEN_BLOCK_MAX_BYTES);
  return [
    shown.block,
    ...(content.more || !shown.complete
      ? [
          `(shown: the first ${formatBytes(shown.shownBytes)}${content.decrypted ? ' of the plaintext' : ''}; \`server cat\` gives all)`,
        ]
      : []),
  ];
}
