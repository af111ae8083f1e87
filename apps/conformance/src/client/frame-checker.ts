/**
 * Holds what a client sent on one connection against docs/PROTOCOL.md, knowing what the scripted server sent
 * and when: a hello first (§4), valid client envelopes (§3), control frames within 64 KiB and data frames within
 * the welcome's `maxFrameBytes` (§2), a dictionary body of exactly `put_dict.bytes` with only pings inside it,
 * no file data before `ready`, a `file_end` whose count and SHA-256 are those of the data sent (and of the
 * declared size), nothing more for a put the server already answered, no data after a cancel (§4).
 */
import { createHash, type Hash } from 'node:crypto';
import { show } from '../case';
import type { LogEntry } from './scripted-server';

const CONTROL_MAX = 65536;

type Put =
  | { kind: 'dict'; id: string; left: number }
  | { kind: 'file'; id: string; size?: number; ready: boolean; failed: boolean; bytes: number; hash: Hash };

/** The problems found on one connection (empty when it conforms). */
export function checkClientFrames(log: readonly LogEntry[]): string[] {
  const problems: string[] = [];
  let welcomed = false;
  let maxFrameBytes = CONTROL_MAX;
  let put: Put | undefined;
  let frames = 0;
  /** Ids the server answered before their data (a duplicate receipt, a refusal), and cancelled ones. */
  const over = new Set<string>();

  const onOut = (m: Record<string, unknown>): void => {
    if (m.type === 'welcome') {
      welcomed = true;
      maxFrameBytes = (m.limits as { maxFrameBytes: number }).maxFrameBytes;
    } else if (m.type === 'ready' && put?.kind === 'file' && put.id === m.id) {
      put.ready = true;
    } else if ((m.type === 'receipt' || m.type === 'error') && put?.kind === 'file' && put.id === m.id) {
      if (put.ready && m.type === 'error') {
        put.failed = true;
      } else if (!put.ready) {
        over.add(put.id);
        put = undefined;
      }
    }
  };

  const onControl = (bytes: Buffer, message: Record<string, unknown> | undefined, error?: string): void => {
    if (bytes.length > CONTROL_MAX) problems.push(`a control frame of ${bytes.length} bytes, over 64 KiB (§2)`);
    if (message === undefined) {
      problems.push(`a control frame that is not a client envelope (§3): ${error}: ${show(bytes.toString())}`);
      return;
    }
    const type = String(message.type);
    const id = message.id as string | undefined;
    if (frames === 1 && type !== 'hello') problems.push(`the first frame must be a hello (§4), got ${show(message)}`);
    if (frames > 1 && type === 'hello') problems.push('a second hello (§4: the hello is the first frame)');
    if (put?.kind === 'dict' && type !== 'ping') {
      problems.push(`${type} while the body of ${put.id} is incomplete: only ping is allowed there (§4)`);
      put = undefined;
    }
    if (put?.kind === 'file' && (type === 'put_dict' || type === 'put_file' || type === 'hello')) {
      problems.push(`${type} during file put ${put.id}: data frames, then file_end or cancel, come first (§4)`);
      put = undefined;
    }
    if (type === 'put_dict') {
      const left = message.bytes as number;
      put = left > 0 ? { kind: 'dict', id: id as string, left } : undefined;
    } else if (type === 'put_file') {
      const size = message.size as number | undefined;
      put = { kind: 'file', id: id as string, ready: false, failed: false, bytes: 0, hash: createHash('sha256') };
      if (size !== undefined) put.size = size;
    } else if (type === 'file_end') {
      onFileEnd(id as string, message.bytes as number, message.sha256 as string);
    } else if (type === 'cancel' && put?.kind === 'file' && put.id === id) {
      over.add(put.id);
      put = undefined;
    }
  };

  const onFileEnd = (id: string, bytes: number, sha256: string): void => {
    if (put?.kind !== 'file' || put.id !== id) {
      const why = over.has(id) ? 'the server had already answered it' : 'no file put of that id is in progress';
      problems.push(`file_end for ${id}, but ${why} (§4)`);
      return;
    }
    const p = put;
    put = undefined;
    if (!p.ready) return; // data before ready is reported already
    if (p.failed) return; // the server ignores it: the client may have sent it before it read the error
    const digest = p.hash.digest('hex');
    if (bytes !== p.bytes) problems.push(`file_end says ${bytes} bytes, the client sent ${p.bytes} (§3)`);
    if (sha256 !== digest) problems.push(`file_end says SHA-256 ${sha256}, the data sent has ${digest} (§3)`);
    if (p.size !== undefined && p.size !== p.bytes) {
      problems.push(`put_file declared size ${p.size}, the client sent ${p.bytes} bytes (§4)`);
    }
  };

  const onData = (payload: Buffer): void => {
    if (welcomed && payload.length > maxFrameBytes) {
      problems.push(`a data frame of ${payload.length} bytes, over the welcome's maxFrameBytes ${maxFrameBytes} (§2)`);
    }
    if (frames === 1) problems.push('a data frame first: the first frame must be a hello (§4)');
    if (put?.kind === 'dict') {
      put.left -= payload.length;
      if (put.left < 0) problems.push(`data past put_dict.bytes of ${put.id} (§4)`);
      if (put.left <= 0) put = undefined;
    } else if (put?.kind === 'file') {
      if (!put.ready) {
        problems.push(`file data for ${put.id} before the server's ready (§4: the client sends put_file and waits)`);
        put.ready = true; // report it once
      }
      put.bytes += payload.length;
      put.hash.update(payload);
    } else if (frames > 1) {
      problems.push('a data frame with no put in progress (§2: data frames carry the body of the put in progress)');
    }
  };

  for (const entry of log) {
    if (entry.dir === 'out') onOut(entry.message);
    else if (entry.dir === 'in-error') problems.push(entry.error);
    else {
      frames += 1;
      if (entry.frame.kind === 2) onData(entry.frame.payload);
      else {
        const { bytes, message, error } = entry.frame;
        onControl(bytes, message as Record<string, unknown> | undefined, error);
      }
    }
  }
  return problems;
}
