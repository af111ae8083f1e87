/**
 * Human-readable lines on standard output: where the server listens, who connects and leaves, and each stored
 * item as `--output` asks: its content (`screen`), a one-line notice (`file`), or both.
 */
import type { Writable } from 'node:stream';
import type { Dict } from '@proj/protocol';
import type { OutputMode } from './options';
import type { StoredItem } from './store/receipts';

/** Text content is shown up to this many bytes, then cut with a note. */
export const SCREEN_MAX_BYTES = 64 * 1024;

export interface SessionStats {
  dicts: number;
  files: number;
  bytes: number;
}

/** What the screen shows of a file's content. */
export type FileContent =
  | { kind: 'text'; text: string; more: boolean; decrypted: boolean }
  | { kind: 'note'; note: string };

export class Output {
  constructor(
    private readonly stream: Writable | null,
    readonly mode: OutputMode,
  ) {}

  /** True when item contents are shown, so the server should read (and decrypt) them. */
  get showsContent(): boolean {
    return this.mode !== 'file';
  }

  line(text: string): void {
    this.stream?.write(`${text}\n`);
  }

  connected(sender: string): void {
    this.line(`client ${sender} connected`);
  }

  disconnected(sender: string, stats: SessionStats, reason?: string): void {
    const parts = [`${stats.dicts} dict${stats.dicts === 1 ? '' : 's'}`, `${stats.files} file${stats.files === 1 ? '' : 's'}`, formatBytes(stats.bytes)];
    this.line(`client ${sender} disconnected: ${parts.join(', ')}${reason ? ` (${reason})` : ''}`);
  }

  dict(item: StoredItem, dict: Dict): void {
    const what = `dict ${item.id} from ${item.sender} (${item.format}, ${formatBytes(item.bytes)})`;
    if (this.mode !== 'screen') this.line(`saved ${what} -> ${item.path}`);
    if (this.mode !== 'file') {
      if (this.mode === 'screen') this.line(`-- ${what}`);
      this.line(JSON.stringify(dict, null, 2));
    }
  }

  file(item: StoredItem, content: FileContent | undefined): void {
    const flags = item.encrypted ? ', age-encrypted' : '';
    const what = `file ${item.id} ${JSON.stringify(item.name ?? '')} from ${item.sender} (${formatBytes(item.bytes)}${flags})`;
    if (this.mode !== 'screen') {
      const plain = item.plaintextPath ? `, plaintext -> ${item.plaintextPath}` : '';
      this.line(`saved ${what} -> ${item.path}${plain}`);
    }
    if (this.mode !== 'file' && content) {
      if (this.mode === 'screen') this.line(`-- ${what}`);
      if (content.kind === 'note') {
        this.line(`(${content.note})`);
      } else {
        const text = content.text.endsWith('\n') ? content.text.slice(0, -1) : content.text;
        this.line(text);
        if (content.more) this.line(`(shown: the first ${formatBytes(SCREEN_MAX_BYTES)}${content.decrypted ? ' of the plaintext' : ''}; the rest is in the file)`);
      }
    }
  }
}

/** Text to show for `head`, or undefined when it looks binary (NUL bytes or invalid UTF-8 beyond a cut character). */
export function textOf(head: Buffer): string | undefined {
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

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
