/** What one benchmark run does: sizes and durations for the quick and the full form, and the shared context. */
import { GiB, MiB } from './units';

export const ROW_GROUPS = ['serializers', 'file', 'encrypted', 'resume', 'dicts', 'memory', 'cluster'] as const;
export type RowGroup = (typeof ROW_GROUPS)[number];

export interface BenchConfig {
  quick: boolean;
  /** Size of the large file (and of the encrypted one). */
  fileBytes: number;
  /** Runs per file measurement; the best is kept (the least disturbed by the rest of the machine). */
  fileRuns: number;
  /** Warm-up and measured time of each dictionary load. */
  warmupMs: number;
  loadMs: number;
  /** Concurrent clients of the loaded dictionary rows. */
  concurrency: readonly number[];
  /** Idle connections held for the memory row. */
  idleConnections: number;
  /** Measured time per serializer operation. */
  serializerMs: number;
  /** Measured time of the create-fsync loop. */
  fsyncMs: number;
  /** Row groups to run. */
  only: readonly RowGroup[];
  /** Where the plot of the dictionary loads goes (SVG), when one is wanted. */
  plotFile?: string;
  /** Where the server writes its CPU profiles (`node --cpu-prof`), when asked. */
  cpuProfDir?: string;
  /** Scratch directory for this run (temp files, data directories, logs); removed at the end. */
  workDir: string;
  /** Progress lines (standard error). */
  progress(line: string): void;
}

export function defaultSizes(
  quick: boolean,
): Pick<
  BenchConfig,
  'fileBytes' | 'fileRuns' | 'warmupMs' | 'loadMs' | 'concurrency' | 'idleConnections' | 'serializerMs' | 'fsyncMs'
> {
  return quick
    ? {
        fileBytes: 128 * MiB,
        fileRuns: 1,
        warmupMs: 300,
        loadMs: 2_000,
        concurrency: [1, 32],
        idleConnections: 1000,
        serializerMs: 300,
        fsyncMs: 1_500,
      }
    : {
        fileBytes: 1 * GiB,
        fileRuns: 3,
        warmupMs: 1_000,
        loadMs: 10_000,
        concurrency: [1, 4, 16, 32, 64],
        idleConnections: 1000,
        serializerMs: 2_000,
        fsyncMs: 5_000,
      };
}
