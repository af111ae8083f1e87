/**
 * How client mode makes the client under test act: a driver sends one dictionary or one file to a given port and
 * says whether the put was acknowledged. The command driver runs a shell command per case with placeholders
 * filled in (any client, in any language); a test can pass a driver that calls a library in-process.
 */
import { spawn } from 'node:child_process';
import type { DictFormat } from '@proj/protocol/dict';

export interface DictJob {
  id: string;
  format: DictFormat;
  /** A JSON file holding the dictionary. */
  file: string;
}

export interface FileJob {
  id: string;
  /** The file to send. */
  file: string;
  /** Its name (the base name of `file`). */
  name: string;
}

export interface DriverResult {
  /** The client reported success: its put was acknowledged with a receipt that matched. */
  ok: boolean;
  /** The error code the client reported, when the driver can tell. */
  code?: string;
  /** What the client printed, for a failure's message. */
  output: string;
}

export interface ClientDriver {
  sendDict(host: string, port: number, job: DictJob): Promise<DriverResult>;
  sendFile(host: string, port: number, job: FileJob): Promise<DriverResult>;
}

/** A value for a shell command line, in single quotes. */
export const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/** `template` with each `{name}` replaced by the quoted value of `values[name]`. */
export function fillTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? shellQuote(String(values[name])) : whole,
  );
}

/** Output kept from a client run: the end of it, where the error is. */
const OUTPUT_KEEP = 4000;

export class CommandDriver implements ClientDriver {
  readonly #dict: string;
  readonly #file: string;
  readonly #timeoutMs: number;

  constructor(commands: { dictCommand: string; fileCommand: string }, timeoutMs: number) {
    this.#dict = commands.dictCommand;
    this.#file = commands.fileCommand;
    this.#timeoutMs = timeoutMs;
  }

  sendDict(host: string, port: number, job: DictJob): Promise<DriverResult> {
    return this.#run(fillTemplate(this.#dict, { host, port, id: job.id, format: job.format, file: job.file }));
  }

  sendFile(host: string, port: number, job: FileJob): Promise<DriverResult> {
    return this.#run(fillTemplate(this.#file, { host, port, id: job.id, file: job.file, name: job.name }));
  }

  #run(command: string): Promise<DriverResult> {
    return new Promise((resolve) => {
      // Its own process group, so that a client that hangs is killed with whatever sh started for it.
      const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let output = '';
      const keep = (chunk: Buffer): void => {
        output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const timer = setTimeout(() => {
        output += `\n(the client did not finish within ${this.#timeoutMs} ms: killed)`;
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      }, this.#timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        resolve({ ok: false, output: `cannot run the client: ${err.message}` });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ ok: code === 0, output: `${command}\nexit ${code}\n${output.trim()}` });
      });
    });
  }
}
