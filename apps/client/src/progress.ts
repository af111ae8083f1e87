/**
 * The progress bar of a large send: bytes, percentage, speed and time left, redrawn on one line of standard
 * error. Nothing is drawn when standard error is not a terminal, so logs and pipes stay clean.
 */
import type { Progress } from '@proj/protocol';
import { formatBytes } from '@proj/cli-kit';

/** Files smaller than this go too fast for a bar to help. */
export const PROGRESS_MIN_BYTES = 1024 * 1024;

export interface ProgressState {
  label: string;
  sent: number;
  total: number;
  /** Milliseconds since the send started. */
  elapsedMs: number;
}

/** One line: `big.iso [#########-----------]  45%  45.0 MiB / 100 MiB  12.3 MiB/s  0:04 left`. */
export function formatProgress(state: ProgressState, columns = 80): string {
  const { label, sent, total, elapsedMs } = state;
  const fraction = total > 0 ? Math.min(1, sent / total) : 1;
  const speed = elapsedMs > 0 ? (sent * 1000) / elapsedMs : 0;
  const left = speed > 0 ? (total - sent) / speed : undefined;
  const tail = ` ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(sent)} / ${formatBytes(total)}  ${formatBytes(Math.round(speed))}/s  ${
    left === undefined ? '--:--' : formatDuration(left)
  } left`;
  const name = label.length > 24 ? `${label.slice(0, 23)}…` : label;
  const width = Math.max(10, Math.min(40, columns - name.length - tail.length - 4));
  const filled = Math.round(fraction * width);
  return `${name} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`;
}

/** Seconds as `m:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export interface ProgressBar {
  /** Pass as `onProgress` to the client. */
  update(progress: Progress): void;
  /** Clears the line. */
  done(): void;
}

const NO_BAR: ProgressBar = { update: () => undefined, done: () => undefined };

/**
 * A bar on `stream` for a send of `total` bytes, or a bar that draws nothing when `stream` is not a terminal or
 * the file is small. Redraws at most every 100 ms.
 */
export function createProgressBar(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): ProgressBar {
  if (!stream.isTTY || total < PROGRESS_MIN_BYTES) return NO_BAR;
  const start = now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update({ sent }) {
      const t = now();
      if (t - lastDraw < 100 && sent < total) return;
      lastDraw = t;
      drawn = true;
      stream.write(`\r${formatProgress({ label, sent, total, elapsedMs: t - start }, stream.columns ?? 80)}\u001b[K`);
    },
    done() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}
