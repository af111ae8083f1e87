/**
 * One connection's session (docs/PROTOCOL.md §4): the handshake, then puts one at a time, each receipt checked
 * against what was sent (byte count and SHA-256). A file put resumes from the server's durable offset when the
 * connection negotiated `resume` (§4, "Resuming"). Reconnecting and retrying are ./client.ts's; the socket and
 * the matching of answers to puts are ./connection.ts's.
 */
import { createHash, type Hash, hash as hashOnce } from 'node:crypto';
import { BadMessageError, IdInvalidError, ReceiptMismatchError, UnexpectedMessageError, VersionError } from '../errors';
import { DEFAULT_CHUNK_BYTES, PROTOCOL_VERSION, SUPPORTED_VERSIONS } from '../limits';
import { isCapabilityName, MAX_CAPABILITIES, negotiate, RESUME_CAPABILITY } from '../wire/capabilities';
import {
  putIdSchema,
  type ClientMessageInput,
  type Encryption,
  type Receipt,
  type ServerMessage,
  type Welcome,
} from '../wire/envelopes';
import { type Connection, remoteError } from './connection';
import { hashPrefix, hashWhole, type RepeatableSource } from './repeatable-source';
import type { ByteSource, Progress, SendStreamOptions } from './types';

export { RESUME_CAPABILITY };

/** What the handshake sends. */
export interface HelloOptions {
  agent?: string;
  token?: string;
  capabilities: readonly string[];
}

export interface PutFileOptions {
  id: string;
  name: string;
  encryption: Encryption;
  /** Ask to continue what the server holds (only on a connection that negotiated `resume`). */
  resume: boolean;
  chunkBytes?: number;
  onProgress?: (progress: Progress) => void;
  onResume?: (offset: number) => void;
  onRestart?: (offset: number, reason: 'checksum' | 'size') => void;
}

export class Session {
  readonly #connection: Connection;
  #queue: Promise<unknown> = Promise.resolve();
  #welcome: Welcome | undefined;
  #capabilities: readonly string[] = [];
  /** Payload bytes handed to the socket in data frames (what a resume saves shows here). */
  dataBytesSent = 0;

  constructor(connection: Connection) {
    this.#connection = connection;
  }

  get welcome(): Welcome {
    if (!this.#welcome) throw new UnexpectedMessageError('use before handshake', 'connect()');
    return this.#welcome;
  }

  get capabilities(): readonly string[] {
    return this.#capabilities;
  }

  has(name: string): boolean {
    return this.#capabilities.includes(name);
  }

  /** The error the connection ended with, once it has ended. */
  get closedWith(): Error | undefined {
    return this.#connection.closedWith;
  }

  async handshake(hello: HelloOptions): Promise<void> {
    const asked = [...new Set(hello.capabilities)];
    // A negotiating hello: the server may send fields this version does not define (docs/PROTOCOL.md §4).
    this.#connection.ignoreUnknownFields = asked.length > 0;
    this.#connection.send({
      type: 'hello',
      version: PROTOCOL_VERSION,
      capabilities: asked,
      ...(hello.agent ? { agent: hello.agent } : {}),
      ...(hello.token ? { token: hello.token } : {}),
    });
    const reply = await this.#connection.next();
    if (reply.type !== 'welcome') throw new UnexpectedMessageError(reply.type, 'welcome');
    if (reply.version !== PROTOCOL_VERSION) throw new VersionError(reply.version, SUPPORTED_VERSIONS);
    this.#welcome = reply;
    this.#capabilities = negotiate(asked, reply.capabilities ?? []);
    this.#connection.capabilities = new Set(this.#capabilities);
    this.#connection.maxFrameBytes = reply.limits.maxFrameBytes;
  }

  startKeepAlive(): void {
    this.#connection.startKeepAlive(this.#welcome?.limits.idleTimeoutMs ?? 0);
  }

  /** Sends an encoded dictionary under `id` and resolves with the checked receipt. */
  sendDictBytes(bytes: Uint8Array, format: string, id: string): Promise<Receipt> {
    checkId(id);
    return this.#serial(async () => {
      const sha256 = hashOnce('sha256', bytes);
      // The put and its body in one write: a small dictionary costs one system call here and one read there.
      this.#connection.together(() => {
        this.#connection.send({ type: 'put_dict', id, format, bytes: bytes.length } as ClientMessageInput);
        const max = this.#connection.maxFrameBytes;
        for (let offset = 0; offset < bytes.length; offset += max) {
          this.#data(bytes.subarray(offset, offset + max));
        }
      });
      await this.#connection.drain();
      const reply = await this.#connection.next(id);
      return checkReceipt(reply, id, bytes.length, sha256);
    });
  }

  /**
   * Sends `source` as file put `id`. With `resume` on a connection that negotiated it, continues from the
   * server's durable offset after checking the server's SHA-256 of that prefix against the source's; on a
   * mismatch it cancels and puts again from zero (the partial is discarded), never storing a mixed file.
   */
  putFile(first: RepeatableSource, options: PutFileOptions): Promise<Receipt> {
    checkId(options.id);
    return this.#serial(async () => {
      let resume = options.resume && this.has(RESUME_CAPABILITY);
      let source = first;
      for (;;) {
        const answer = await this.#putFileStart(options, source.size, resume);
        if (answer.type === 'receipt') {
          // The server held this id already: check that it is this source, hashed instead of sent.
          const { bytes, sha256 } = await hashSource(source.open());
          const receipt = checkReceipt(answer, options.id, bytes, sha256);
          source.done?.();
          return receipt;
        }
        const heldSha256 = answer.sha256;
        if (answer.offset > 0 && (!resume || answer.offset > source.size || heldSha256 === undefined)) {
          if (!resume) throw new UnexpectedMessageError(`ready at offset ${answer.offset}`, 'ready at 0');
          this.#connection.send({ type: 'cancel', id: options.id });
          options.onRestart?.(answer.offset, 'size');
          resume = false;
          continue;
        }
        if (answer.offset > 0) options.onResume?.(answer.offset);
        // A state kept by an earlier send of this file in this process: hashed on from there, the tail read once.
        const start =
          answer.offset > 0 && source.openAt && heldSha256 !== undefined
            ? source.checkpoints?.below(answer.offset)
            : undefined;
        const result =
          start && source.openAt
            ? await this.#streamFrom(source, source.openAt(start.at), options, answer.offset, heldSha256, { start })
            : answer.offset > 0 && source.openAt && heldSha256 !== undefined
              ? await this.#resumeOverlapped(source, source.openAt, options, answer.offset, heldSha256)
              : await this.#streamFrom(source, source.open(), options, answer.offset, heldSha256);
        if (result !== 'mismatch') {
          source.done?.();
          return result;
        }
        options.onRestart?.(answer.offset, 'checksum');
        resume = false;
        source = (await source.renew?.()) ?? source;
      }
    });
  }

  /**
   * Streams bytes from `source` and resolves with the checked receipt (one attempt: retrying a stream is the
   * caller's, with a fresh source).
   */
  sendStream(source: ByteSource | (() => ByteSource), options: SendStreamOptions & { id: string }): Promise<Receipt> {
    const id = options.id;
    checkId(id);
    return this.#serial(async () => {
      const answer = await this.#putFileStart(
        { id, name: options.name, encryption: options.encryption ?? 'none' },
        options.size,
        false,
      ).catch((err: unknown) => {
        if (typeof source !== 'function') discardSource(source);
        throw err;
      });
      if (answer.type === 'receipt') {
        // The server held this id already and sent nothing back but the first receipt: check that it is what
        // we meant: something an earlier attempt sent in full, or else the source, hashed instead of sent.
        const earlier = options.earlierAttempts?.find((d) => d.bytes === answer.bytes && d.sha256 === answer.sha256);
        if (earlier) {
          if (typeof source !== 'function') discardSource(source);
          return checkReceipt(answer, id, earlier.bytes, earlier.sha256);
        }
        const { bytes, sha256 } = await hashSource(typeof source === 'function' ? source() : source);
        return checkReceipt(answer, id, bytes, sha256);
      }
      if (answer.offset !== 0) {
        if (typeof source !== 'function') discardSource(source);
        throw new UnexpectedMessageError(`ready at offset ${answer.offset}`, 'ready at 0');
      }
      const iterable = toAsync(typeof source === 'function' ? source() : source);
      const result = await this.#streamFrom(
        { size: options.size ?? Number.NaN, open: () => iterable },
        iterable,
        {
          id,
          name: options.name,
          encryption: options.encryption ?? 'none',
          resume: false,
          ...(options.chunkBytes !== undefined ? { chunkBytes: options.chunkBytes } : {}),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        },
        0,
        undefined,
        options.onSent ? { onSent: options.onSent } : {},
      );
      if (result === 'mismatch') throw new UnexpectedMessageError('a prefix check', 'none at offset 0');
      return result;
    });
  }

  ping(): Promise<void> {
    return this.#serial(async () => {
      this.#connection.send({ type: 'ping', nonce: 'p' });
      const reply = await this.#connection.next();
      if (reply.type !== 'pong') throw new UnexpectedMessageError(reply.type, 'pong');
    });
  }

  /** Says goodbye, waits for the server's, and closes. */
  async close(): Promise<void> {
    if (this.#connection.closedWith) return;
    await this.#serial(async () => {
      this.#connection.send({ type: 'bye' });
      try {
        await this.#connection.next();
      } catch {
        // The server may close without a bye of its own; either way we are done.
      }
    }).catch(() => undefined);
    this.destroy();
  }

  /** Closes the socket at once, failing any put in progress with ERR_CONNECTION_CLOSED. */
  destroy(): void {
    this.#connection.destroy();
  }

  /** Sends `put_file` and waits for `ready` or a duplicate's receipt; a refusal is thrown. */
  async #putFileStart(
    options: Pick<PutFileOptions, 'id' | 'name' | 'encryption'>,
    size: number | undefined,
    resume: boolean,
  ): Promise<Extract<ServerMessage, { type: 'ready' | 'receipt' }>> {
    this.#connection.send({
      type: 'put_file',
      id: options.id,
      name: options.name,
      offset: 0,
      encryption: options.encryption,
      ...(size !== undefined ? { size } : {}),
      ...(resume ? { resume: true } : {}),
    });
    const answer = await this.#connection.next(options.id);
    if (answer.type === 'receipt' && answer.duplicate) return answer;
    if (answer.type === 'error') throw remoteError(answer);
    if (answer.type !== 'ready') throw new UnexpectedMessageError(answer.type, 'ready');
    return answer;
  }

  /**
   * Reads `iterable` from the start (or, given `start`, a checkpoint's state of the first `start.at` bytes, from
   * there): the bytes up to `offset` are only hashed (the server holds them), and checked against `heldSha256` once
   * hashed; the rest are hashed and sent; then `file_end` and the receipt. 'mismatch' when the prefix differs, or
   * a source resumed from a checkpoint changed meanwhile (a `cancel` has been sent, nothing after it).
   */
  async #streamFrom(
    source: RepeatableSource,
    iterable: AsyncIterable<Uint8Array>,
    options: PutFileOptions,
    offset: number,
    heldSha256: string | undefined,
    more: {
      start?: { at: number; hash: Hash };
      onSent?: (digest: { bytes: number; sha256: string }) => void;
    } = {},
  ): Promise<Receipt | 'mismatch'> {
    const { id } = options;
    const { start, onSent } = more;
    const hash = start?.hash ?? createHash('sha256');
    const chunkBytes = this.#chunkBytes(options.chunkBytes);
    const total = Number.isFinite(source.size) ? source.size : undefined;
    let position = 0;
    const iterator = iterable[Symbol.asyncIterator]();
    try {
      if (offset > 0) {
        const match = await hashPrefix(iterator, hash, offset - (start?.at ?? 0), heldSha256, source);
        position = offset;
        if (match.rest === 'mismatch') {
          // The server's bytes are not ours (the file changed, or the server's copy is damaged): drop them.
          await iterator.return?.();
          this.#connection.send({ type: 'cancel', id });
          return 'mismatch';
        }
        if (match.rest) {
          position = await this.#sendChunk(match.rest, hash, position, chunkBytes, options, total, undefined, source);
        }
      }
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        position = await this.#sendChunk(next.value, hash, position, chunkBytes, options, total, source, source);
      }
    } catch (err) {
      await iterator.return?.();
      if (!this.#connection.closedWith) {
        // Whatever the server still says about this put (an early error in flight) is now stale.
        this.#connection.abandon(id);
        this.#connection.send({ type: 'cancel', id });
      }
      throw err;
    }
    // The checkpoint stood for bytes of the file as it was: a file written since may begin with other bytes than
    // the server's, and is checked again from its start.
    if (start && source.unchanged && !(await source.unchanged())) {
      source.checkpoints?.clear();
      this.#connection.send({ type: 'cancel', id });
      return 'mismatch';
    }
    const sha256 = hash.digest('hex');
    this.#connection.send({ type: 'file_end', id, bytes: position, sha256 });
    onSent?.({ bytes: position, sha256 });
    const reply = await this.#connection.next(id);
    return checkReceipt(reply, id, position, sha256);
  }

  /**
   * A resume of a seekable source without a kept hash state (./hash-checkpoints.ts: another process sent it, or the
   * file was written since): the tail (from `offset`) is read and sent at once, while a second reader goes
   * through the whole file from its start to hash it in order (the prefix checked against the server's SHA-256 on
   * the way). The tail is thus read twice, once to send and once to hash, which costs less than holding its
   * chunks until the prefix is hashed: held chunks could not be read into again, and fresh 1 MiB buffers for
   * every chunk made the garbage collector this path's largest cost (docs/BENCHMARKS.md, "Resume"). `file_end`
   * goes once the hash is complete; a prefix that does not match the server's ends the put with `cancel` (the
   * server drops what it got) and gives 'mismatch'.
   */
  async #resumeOverlapped(
    source: RepeatableSource,
    openAt: (offset: number) => AsyncIterable<Uint8Array>,
    options: PutFileOptions,
    offset: number,
    heldSha256: string,
  ): Promise<Receipt | 'mismatch'> {
    const { id } = options;
    const chunkBytes = this.#chunkBytes(options.chunkBytes);
    let stopped = false;
    let mismatch = false;
    const hashing = hashWhole(source, offset, heldSha256, () => stopped).then((digest) => {
      if (digest === 'mismatch') mismatch = true;
      return digest;
    });
    hashing.catch(() => undefined);
    let position = offset;
    const tail = openAt(offset)[Symbol.asyncIterator]();
    let digest: Awaited<typeof hashing>;
    try {
      try {
        for (;;) {
          if (mismatch) break;
          const next = await tail.next();
          if (next.done) break;
          position = await this.#sendChunk(next.value, undefined, position, chunkBytes, options, source.size, source);
        }
      } finally {
        if (mismatch) stopped = true;
        await tail.return?.();
      }
      digest = await hashing;
    } catch (err) {
      stopped = true;
      await hashing.catch(() => undefined);
      if (!this.#connection.closedWith) {
        // Whatever the server still says about this put (an early error in flight) is now stale.
        this.#connection.abandon(id);
        this.#connection.send({ type: 'cancel', id });
      }
      throw err;
    }
    // A file written while it was sent may begin with other bytes than those hashed: checked again from its start.
    if (digest === 'mismatch' || (source.unchanged && !(await source.unchanged()))) {
      // The server's bytes are not ours (the file changed, or the server's copy is damaged): drop them.
      source.checkpoints?.clear();
      this.#connection.send({ type: 'cancel', id });
      return 'mismatch';
    }
    // The hash covers the file as read a second time: a file changed while being sent gives a digest the server's
    // does not match, and the server refuses the put (ERR_CHECKSUM_MISMATCH or ERR_SIZE_MISMATCH).
    this.#connection.send({ type: 'file_end', id, bytes: position, sha256: digest.sha256 });
    const reply = await this.#connection.next(id);
    return checkReceipt(reply, id, position, digest.sha256);
  }

  /** Hashes (unless `hash` is undefined) and sends `chunk` in frames of `chunkBytes`; returns the new position. */
  async #sendChunk(
    chunk: Uint8Array,
    hash: Hash | undefined,
    position: number,
    chunkBytes: number,
    options: PutFileOptions,
    total: number | undefined,
    source?: RepeatableSource,
    /** Whose checkpoints take the hash's state after each piece. */
    hashed?: RepeatableSource,
  ): Promise<number> {
    let sent = position;
    for (let offset = 0; offset < chunk.length; offset += chunkBytes) {
      const piece = chunk.subarray(offset, offset + chunkBytes);
      this.#connection.throwIfAnswered(options.id);
      hash?.update(piece);
      sent += piece.length;
      if (hash) hashed?.checkpoints?.add(sent, hash);
      // A file's buffers are read into again once the socket has written the chunk's last piece.
      const written =
        source?.recycle && offset + chunkBytes >= chunk.length ? () => source.recycle?.(chunk) : undefined;
      if (!this.#data(piece, written)) await this.#connection.drain();
      options.onProgress?.({ sent, ...(total !== undefined ? { total } : {}) });
    }
    return sent;
  }

  #data(payload: Uint8Array, written?: () => void): boolean {
    this.dataBytesSent += payload.length;
    return this.#connection.data(payload, written);
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      const closed = this.#connection.closedWith;
      if (closed) throw closed;
      return task();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #chunkBytes(requested?: number): number {
    const max = this.#welcome?.limits.maxFrameBytes ?? DEFAULT_CHUNK_BYTES;
    return Math.max(1, Math.min(requested ?? DEFAULT_CHUNK_BYTES, max));
  }
}

async function hashSource(source: ByteSource | AsyncIterable<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

async function* toAsync(source: ByteSource): AsyncGenerator<Uint8Array> {
  for await (const chunk of source as AsyncIterable<Uint8Array>) yield chunk;
}

/** Releases a stream we will not read to its end (a file stream holds a descriptor until destroyed). */
export function discardSource(source: ByteSource): void {
  const maybe = source as { destroy?: () => void };
  if (typeof maybe.destroy === 'function') maybe.destroy();
}

/** Refuses, before connecting, a capability list the hello could not carry. */
export function checkCapabilities(names: readonly string[]): void {
  const bad = names.find((name) => !isCapabilityName(name));
  if (bad !== undefined) {
    throw new BadMessageError(`capability ${JSON.stringify(bad.slice(0, 70))} is not a capability name`);
  }
  if (names.length > MAX_CAPABILITIES) {
    throw new BadMessageError(`${names.length} capabilities; a hello lists at most ${MAX_CAPABILITIES}`);
  }
}

export function checkId(id: string): void {
  if (!putIdSchema.safeParse(id).success) throw new IdInvalidError(id);
}

function checkReceipt(reply: ServerMessage, id: string, bytes: number, sha256: string): Receipt {
  if (reply.type === 'error') throw remoteError(reply);
  if (reply.type !== 'receipt') throw new UnexpectedMessageError(reply.type, 'receipt');
  if (reply.id !== id) throw new ReceiptMismatchError(`receipt for ${reply.id}, expected ${id}`);
  if (reply.bytes !== bytes || reply.sha256 !== sha256) {
    throw new ReceiptMismatchError(
      `server stored ${reply.bytes} bytes with sha256 ${reply.sha256}; sent ${bytes} bytes with sha256 ${sha256}` +
        (reply.duplicate ? ' (the server already held different content under this id)' : ''),
    );
  }
  return reply;
}
