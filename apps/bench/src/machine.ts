/** The machine a run happened on, for the report: figures mean little without it. */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { formatBytes } from '@proj/cli-kit';

export interface Machine {
  uname: string;
  cpu: string;
  cores: number;
  memory: string;
  node: string;
  disk: string;
  tools: string;
}

function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return `(${cmd} unavailable)`;
  }
}

export function describeMachine(): Machine {
  const df = run('df', ['-hT', tmpdir()]).split('\n').pop() ?? '';
  const [source, fstype, size, , avail, , mount] = df.split(/\s+/);
  const socat = /socat version (\S+)/.exec(run('socat', ['-V']))?.[1] ?? '?';
  const age = run('age', ['--version']);
  return {
    uname: run('uname', ['-a']),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memory: formatBytes(totalmem()),
    node: process.version,
    disk: `${tmpdir()} on ${source} (${fstype}, ${size}, ${avail} free, mounted on ${mount})`,
    tools: `socat ${socat}, age ${age}`,
  };
}

export function machineLines(m: Machine): string[] {
  return [
    `- Kernel: \`${m.uname}\``,
    `- CPU: ${m.cpu}, ${m.cores} cores; memory ${m.memory}`,
    `- Node ${m.node}; ${m.tools}`,
    `- Disk: ${m.disk}`,
  ];
}
