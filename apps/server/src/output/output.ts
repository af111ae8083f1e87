/**
 * Human-readable lines on standard output: where the server listens, who connects and leaves, and each stored
 * item as `--output` asks: its content (`screen`), a one-line notice (`file`), or both.
 *
 * Whatever came from a client is shown harmless (./printable.ts): control characters escaped, and content lines
 * behind a gutter (./screen-text.ts), so that no client can clear the screen, set the title or the clipboard, or
 * print a line that passes for the server's. The screen is a view, not a queue (./backlog.ts): when standard
 * output falls behind, items are not shown (they are stored all the same) and the server says how many once it
 * catches up; one item shows at most SCREEN_BLOCK_MAX_BYTES.
 */
import type { Writable } from 'node:stream';
import { formatBytes } from '@proj/cli-kit';
import { Backlog } from './backlog';
import type { JsonHead } from './json-head';
import type { OutputMode } from '../options';
import { printable, quoted } from './printable';
import { screenText } from './screen-text';
import type { StoredItem } from '../store/receipts';

/**
 * Text content is shown up to this many bytes, then cut with a note; a dictionary's pretty print likewise. The
 * screen is a glance, not a viewer: `server list` and the file itself hold the rest (docs/SERVER.md, "What the
 * server prints"). It is also all that is read back (and decrypted) of a file to show it.
 */
export const SCREEN_MAX_BYTES = 4 * 1024;

/** Lines of one item's content shown at most (a terminal's height, about). */
export const SCREEN_MAX_LINES = 24;

/** The most one item's content takes on the screen, gutter and escapes included (escapes make text longer). */
export const SCREEN_BLOCK_MAX_BYTES = 2 * SCREEN_MAX_BYTES;

/**
 * The most left unwritten on standard output before items are skipped. A terminal or a file takes each write at
 * once (this never fills); a pipe whose reader is slow fills it, and then the screen skips instead of queueing.
 * 16 items' whole blocks (SCREEN_BLOCK_MAX_BYTES); it was 512 KiB when one item could take 128 KiB.
 */
export const SCREEN_BACKLOG_BYTES = 16 * SCREEN_BLOCK_MAX_BYTES;

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
  readonly #screen: Backlog | undefined;
  #skippedItems = 0;
  #skippedLines = 0;

  constructor(
    stream: Writable | null,
    readonly mode: OutputMode,
    maxBacklogBytes = SCREEN_BACKLOG_BYTES,
  ) {
    this.#screen = stream ? new Backlog(stream, maxBacklogBytes, () => this.#tellSkipped()) : undefined;
  }

  /**
   * True when item contents are shown, so the server should read (and decrypt) them: not in `file` mode, and
   * not while the screen is behind (what would not be shown is not read).
   */
  get showsContent(): boolean {
    return this.mode !== 'file' && this.#screen !== undefined && !this.#screen.behind;
  }

  /** A line of the server's own (not from a client: callers pass nothing a client chose). */
  line(text: string): void {
    this.#offerLine(() => text);
  }

  connected(sender: string): void {
    this.#offerLine(() => `client ${printable(sender)} connected`);
  }

  disconnected(sender: string, stats: SessionStats, reason?: string): void {
    this.#offerLine(() => {
      const parts = [
        `${stats.dicts} dict${stats.dicts === 1 ? '' : 's'}`,
        `${stats.files} file${stats.files === 1 ? '' : 's'}`,
        formatBytes(stats.bytes),
      ];
      return `client ${printable(sender)} disconnected: ${parts.join(', ')}${reason ? ` (${printable(reason)})` : ''}`;
    });
  }

  /** `head`: the dictionary's JSON as far as the screen shows it (built off the event loop); none when not asked. */
  dict(item: StoredItem, head: JsonHead | undefined): void {
    this.#offerItem(() => {
      const what = `dict ${printable(item.id)} from ${printable(item.sender)} (${printable(item.format ?? '')}, ${formatBytes(item.bytes)})`;
      const lines: string[] = [];
      if (this.mode !== 'screen') lines.push(`saved ${what} -> ${printable(item.path)}`);
      if (this.mode !== 'file') {
        if (this.mode === 'screen') lines.push(`-- ${what}`);
        if (!head) {
          lines.push('(content not shown: the screen was behind)');
        } else {
          const shown = screenText(head.text, SCREEN_BLOCK_MAX_BYTES, SCREEN_MAX_LINES);
          lines.push(shown.block);
          if (!head.complete || !shown.complete)
            lines.push(
              `(shown: the first ${formatBytes(shown.shownBytes)} of its JSON; the whole dictionary is in the file)`,
            );
        }
      }
      return lines;
    });
  }

  file(item: StoredItem, content: FileContent | undefined): void {
    this.#offerItem(() => {
      const flags = item.encrypted ? ', age-encrypted' : '';
      const what = `file ${printable(item.id)} ${quoted(item.name ?? '')} from ${printable(item.sender)} (${formatBytes(item.bytes)}${flags})`;
      const lines: string[] = [];
      if (this.mode !== 'screen') {
        const plain = item.plaintextPath ? `, plaintext -> ${printable(item.plaintextPath)}` : '';
        lines.push(`saved ${what} -> ${printable(item.path)}${plain}`);
      }
      if (this.mode !== 'file') {
        if (this.mode === 'screen') lines.push(`-- ${what}`);
        if (!content) {
          lines.push('(content not shown: the screen was behind)');
        } else if (content.kind === 'note') {
          lines.push(`(${printable(content.note)})`);
        } else {
          const shown = screenText(content.text, SCREEN_BLOCK_MAX_BYTES, SCREEN_MAX_LINES);
          lines.push(shown.block);
          if (content.more || !shown.complete) {
            lines.push(
              `(shown: the first ${formatBytes(shown.shownBytes)}${content.decrypted ? ' of the plaintext' : ''}; the rest is in the file)`,
            );
          }
        }
      }
      return lines;
    });
  }

  #offerLine(render: () => string): void {
    if (this.#screen && !this.#screen.offer(() => `${render()}\n`)) this.#skippedLines += 1;
  }

  #offerItem(render: () => string[]): void {
    if (this.#screen && !this.#screen.offer(() => `${render().join('\n')}\n`)) this.#skippedItems += 1;
  }

  /** Said once the screen takes lines again: what it did not show. */
  #tellSkipped(): void {
    const items = this.#skippedItems;
    const lines = this.#skippedLines;
    this.#skippedItems = 0;
    this.#skippedLines = 0;
    const parts: string[] = [];
    if (items > 0) parts.push(`${items} item${items === 1 ? '' : 's'}`);
    if (lines > 0) parts.push(`${lines} other line${lines === 1 ? '' : 's'}`);
    if (parts.length === 0) return;
    const stored = items > 0 ? '; every item is stored, `server list` shows them' : '';
    this.line(`(screen behind: ${parts.join(' and ')} not shown${stored})`);
  }
}

// The server's other modules (prompts, list) take byte sizes from here, worded as everywhere (@proj/cli-kit).
export { formatBytes };
