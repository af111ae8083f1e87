/**
 * The whole age file as two push-style codecs, shared by the Node stream transforms and the file functions.
 * Pure apart from awaiting the key: no streams, no file system.
 */
import { randomBytes } from 'node:crypto';
import { PAYLOAD_NONCE_SIZE } from './constants';
import { TruncatedError } from './errors';
import {
  HeaderScanner,
  openHeader,
  sealHeader,
  validateDecryptOptions,
  validateEncryptOptions,
  type DecryptOptions,
  type EncryptOptions,
} from './header';
import { PayloadOpener, PayloadSealer, payloadKey } from './payload';

/** Plaintext in, age file out: `start()` once (header + nonce), then `push()`, then `finish()`. */
export class AgeEncoder {
  private readonly ready: Promise<{ prologue: Buffer; sealer: PayloadSealer }>;
  private sealer: PayloadSealer | undefined;

  /** Validates `opts` synchronously and starts building the header (scrypt runs on the thread pool). */
  constructor(opts: EncryptOptions) {
    validateEncryptOptions(opts);
    this.ready = sealHeader(opts).then(({ header, fileKey }) => {
      const nonce = randomBytes(PAYLOAD_NONCE_SIZE);
      const sealer = new PayloadSealer(payloadKey(fileKey, nonce));
      fileKey.fill(0);
      return { prologue: Buffer.concat([header, nonce]), sealer };
    });
    this.ready.catch(() => undefined); // surfaced by start(), never an unhandled rejection
  }

  /** True once `start()` resolved: `push` may be called. */
  get started(): boolean {
    return this.sealer !== undefined;
  }

  /** Resolves to the header and payload nonce, the first bytes of the file. */
  async start(): Promise<Buffer> {
    const { prologue, sealer } = await this.ready;
    this.sealer = sealer;
    return prologue;
  }

  /** Encrypts the chunks of `plain` known not to be the last. */
  push(plain: Buffer): Buffer[] {
    if (this.sealer === undefined) throw new Error('AgeEncoder: push before start');
    return this.sealer.push(plain);
  }

  /** The final chunk. */
  finish(): Buffer {
    if (this.sealer === undefined) throw new Error('AgeEncoder: finish before start');
    return this.sealer.finish();
  }
}

const State = { header: 'header', nonce: 'nonce', payload: 'payload' } as const;
type State = (typeof State)[keyof typeof State];

/** age file in, plaintext out: `push()` any split of the input, then `finish()`. */
export class AgeDecoder {
  private state: State = State.header;
  private readonly scanner = new HeaderScanner();
  private fileKey: Buffer | undefined;
  private nonce = Buffer.alloc(0);
  private opener: PayloadOpener | undefined;

  /** Validates `opts` synchronously. */
  constructor(private readonly opts: DecryptOptions) {
    validateDecryptOptions(opts);
  }

  /** True once the header is open: `pushPayload` may be used (synchronous). */
  get inPayload(): boolean {
    return this.opener !== undefined;
  }

  /** Payload fast path, only when {@link inPayload}. */
  pushPayload(sealed: Buffer): Buffer[] {
    if (this.opener === undefined) throw new Error('AgeDecoder: pushPayload before the header');
    return this.opener.push(sealed);
  }

  /** Consumes bytes; resolves to the plaintext that is ready (may await the key unwrapping once). */
  async push(chunk: Buffer): Promise<Buffer[]> {
    if (this.opener !== undefined) return this.opener.push(chunk);
    let rest = chunk;
    if (this.state === State.header) {
      const found = this.scanner.push(rest);
      if (found === null) return [];
      this.fileKey = await openHeader(found.header, this.opts);
      this.state = State.nonce;
      rest = found.rest;
    }
    const need = PAYLOAD_NONCE_SIZE - this.nonce.length;
    this.nonce = Buffer.concat([this.nonce, rest.subarray(0, need)]);
    rest = rest.subarray(need);
    if (this.nonce.length < PAYLOAD_NONCE_SIZE || this.fileKey === undefined) return [];
    this.opener = new PayloadOpener(payloadKey(this.fileKey, this.nonce));
    this.fileKey.fill(0);
    this.state = State.payload;
    return this.opener.push(rest);
  }

  /** Authenticates the end of the file; returns the last plaintext. Throws if the input was cut short. */
  finish(): Buffer {
    if (this.state === State.header) this.scanner.end();
    if (this.opener === undefined) throw new TruncatedError('input ends inside the payload nonce');
    return this.opener.finish();
  }
}
