/**
 * How the server's process uses V8's heap (docs/SERVER.md §12, "Memory"; figures in docs/BENCHMARKS.md). Three
 * settings, all made by the program (./main.ts through ./heap-setup.ts), never by the library (`startServer`), whose
 * host process is not ours to tune:
 *
 * - The young generation stays at its first size, 1 MiB per semi-space, instead of growing to 16: what the server
 *   allocates per frame dies young, and the larger space only held garbage (-9 to -11 MiB of RSS at rest and under
 *   load). `--max-semi-space-size=1` would do the same but must be given to `node` itself, which `node dist/main.js`,
 *   the Dockerfile, the service file and `pnpm start` would each have to repeat; V8 reads the growth factor each time
 *   it would grow the space, so setting it to 1 at start-up works however the process was started. (Given as a node
 *   flag it is raised back to 2: only the runtime setting holds.) A semi-space flag the operator gives node wins.
 *
 * - A scavenge (young-generation collection, ~0.3 ms) after each SCAVENGE_EVERY_BYTES received. Each socket read
 *   allocates a new 64 KiB buffer outside the heap; its bytes are copied out at once (a file's into its write
 *   buffers, ./store/file-writes.ts), but the buffer is only freed by a collection, and little else is allocated on
 *   the heap per read, so none comes: a 1 GiB transfer piled up 30-45 MiB of dead read buffers between full
 *   collections, which V8 started only on external-memory pressure (~35 of them per GiB, 5-25 ms each). Paced
 *   scavenges free them while they are young: a few MiB at most, and almost no full collections. Node 20 has no
 *   public way to read an accepted socket into a reused buffer, and no public call for a collection: V8's `gc` is
 *   exposed to a fresh context only (`--expose-gc` set at run time), and that function is kept here.
 *
 * - Functions are optimized (TurboFan) after 4x the execution V8 waits for by default (INTERRUPT_BUDGET). With the
 *   default, the start-up's module loading and a crowd of handshakes had ~90 functions optimized, each leaving
 *   optimized code, deoptimization data and the compiler's allocations behind (-1.2 to -2.3 MiB of RSS holding
 *   1,000 idle connections, -0.5 to -1 at rest); what runs all the time (a file's frames, a load of dictionaries)
 *   is optimized a little later, with no measurable change in CPU per acknowledgement. V8 reads the budget each
 *   time it sets a function's counter, so the runtime setting works; an `--interrupt-budget` given to node wins.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Bytes received by all connections between two paced scavenges. Peak RSS receiving 1 GiB, one run each under the
 * same load: every 1 MiB 74, 2 MiB 73-75, 4 MiB 77-78, 8 MiB 85; a scavenge costs ~0.3 ms, so 2 MiB is ~0.15 s of
 * CPU per GiB, less than the ~35 full collections (5-25 ms each) it replaces.
 */
export const SCAVENGE_EVERY_BYTES = 2 * 1024 * 1024;

/**
 * Bytecode executed by a function before V8 considers optimizing it: 4x V8's default (67,584). Holding 1,000 idle
 * connections, one run each under the same load: default 64.8-65.4 MiB, 2x 63.6, 4x 63.3-63.5, 10x 63.1-63.2;
 * 10x and more cost CPU on a 1 GiB put (hot code runs longer unoptimized), 4x did not (docs/BENCHMARKS.md).
 */
export const INTERRUPT_BUDGET = 4 * 67_584;

type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let scavenge: GcFunction | undefined;
let receivedSinceScavenge = 0;

/** Node flags that size the young generation: when the operator gave one, the growth factor is left alone. */
const SEMI_SPACE_FLAG = /--(?:max|min)[-_]semi[-_]space[-_]size/;
/** The node flag of the optimization budget: when the operator gave it, it is left alone. */
const BUDGET_FLAG = /--interrupt[-_]budget[=\s]/;

/**
 * Whether the young generation is left to node's own flags: when the operator gave node a semi-space size (on its
 * command line or in NODE_OPTIONS), that size is what they asked for.
 */
export function semiSpaceGiven(execArgv: readonly string[], nodeOptions: string): boolean {
  return execArgv.some((a) => SEMI_SPACE_FLAG.test(a)) || SEMI_SPACE_FLAG.test(nodeOptions);
}

/** Whether the operator gave node its own optimization budget (on its command line or in NODE_OPTIONS). */
export function budgetGiven(execArgv: readonly string[], nodeOptions: string): boolean {
  return execArgv.some((a) => BUDGET_FLAG.test(`${a} `)) || BUDGET_FLAG.test(`${nodeOptions} `);
}

/** The V8 flags `tuneHeap` set, to set again after a worker thread starts (`holdHeapAfterWorkerStart`). */
const applied: string[] = [];

function apply(flag: string): void {
  setFlagsFromString(flag);
  applied.push(flag);
}

/** Applies the settings to this process; call it once, before the program loads its modules (./heap-setup.ts). */
export function tuneHeap(): void {
  const nodeOptions = process.env.NODE_OPTIONS ?? '';
  if (!semiSpaceGiven(process.execArgv, nodeOptions)) {
    apply('--semi-space-growth-factor=1');
  }
  if (!budgetGiven(process.execArgv, nodeOptions)) {
    apply(`--interrupt-budget=${INTERRUPT_BUDGET}`);
  }
  if (scavenge !== undefined) return;
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc === 'function') scavenge = gc as GcFunction;
}

/**
 * Sets `tuneHeap`'s flags again after a worker thread started (./module-worker.ts): starting one puts V8's flags
 * back to their defaults, and the young generation grew to 2 MiB per semi-space after the first large dictionary or
 * under the first load of dictionaries. Nothing when the program set none (`tuneHeap`).
 */
export function holdHeapAfterWorkerStart(): void {
  for (const flag of applied) setFlagsFromString(flag);
}

/**
 * Counts bytes a connection received; every SCAVENGE_EVERY_BYTES, collects the young generation, which frees the
 * socket's read buffers of those bytes. Does nothing unless tuneHeap ran.
 */
export function noteReceived(bytes: number): void {
  if (scavenge === undefined) return;
  receivedSinceScavenge += bytes;
  if (receivedSinceScavenge < SCAVENGE_EVERY_BYTES) return;
  receivedSinceScavenge = 0;
  scavenge({ type: 'minor' });
}
