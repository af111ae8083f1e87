import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { PAYLOAD_NONCE_SIZE } from './constants';
import { TruncatedError } from './errors';
import { HeaderScanner, openHeader, validateDecryptOptions, type DecryptOptions } from './header';
import { PayloadOpener, payloadKey } from './payload';

/** Options of {@link createDecryptStream}: the key material plus stream tuning. */
export type DecryptStreamOptions = DecryptOptions & Pick<TransformOptions, 'highWaterMark'>;

const State = { header: 'header', nonce: 'nonce', payload: 'payload' } as const;
type State = (typeof State)[keyof typeof State];

class DecryptTransform extends Transform {
  private state: State = State.header;
  private readonly scanner = new HeaderScanner();
  private fileKey: Buffer | undefined;
  private nonce = Buffer.alloc(0);
  private opener: PayloadOpener | undefined;

  constructor(private readonly opts: DecryptStreamOptions) {
    super(opts.highWaterMark === undefined ? {} : { highWaterMark: opts.highWaterMark });
    validateDecryptOptions(opts);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.opener !== undefined) {
      // Hot path: synchronous, no promise per chunk.
      let out: Buffer;
      try {
        out = this.opener.push(chunk);
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback(null, out.length > 0 ? out : undefined);
      return;
    }
    this.consume(chunk).then(
      (out) => callback(null, out.length > 0 ? out : undefined),
      (err: Error) => callback(err),
    );
  }

  /** Header and nonce phase: may await the key unwrapping (scrypt runs on the thread pool). */
  private async consume(chunk: Buffer): Promise<Buffer> {
    let rest = chunk;
    if (this.state === State.header) {
      const found = this.scanner.push(rest);
      if (found === null) return Buffer.alloc(0);
      this.fileKey = await openHeader(found.header, this.opts);
      this.state = State.nonce;
      rest = found.rest;
    }
    if (this.state === State.nonce) {
      const need = PAYLOAD_NONCE_SIZE - this.nonce.length;
      this.nonce = Buffer.concat([this.nonce, rest.subarray(0, need)]);
      rest = rest.subarray(need);
      if (this.nonce.length < PAYLOAD_NONCE_SIZE || this.fileKey === undefined) return Buffer.alloc(0);
      this.opener = new PayloadOpener(payloadKey(this.fileKey, this.nonce));
      this.fileKey.fill(0);
      this.state = State.payload;
    }
    return this.opener === undefined ? Buffer.alloc(0) : this.opener.push(rest);
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.state === State.header) this.scanner.end();
      if (this.opener === undefined) throw new TruncatedError('input ends inside the payload nonce');
      callback(null, this.opener.finish());
    } catch (err) {
      callback(err as Error);
    }
  }
}

/**
 * Creates a Transform that turns an age file (binary form) back into plaintext.
 *
 * Plaintext is released chunk by chunk, each only after its Poly1305 tag verified; but truncation shows only at
 * the end of the stream, so a consumer must treat the output as provisional until the stream finishes without
 * error (`decryptFile` does: temp file, rename on success). Memory stays bounded (one 64 KiB chunk carried, the
 * header capped at 1 MiB), and backpressure is honoured like any Transform.
 *
 * Errors (emitted on the stream): {@link NoIdentityMatchError}, {@link TamperedError}, {@link TruncatedError},
 * {@link HeaderError}, {@link UnsupportedError} (armored input, plugin-only recipients).
 *
 * @param opts - `identities` (`AGE-SECRET-KEY-1…`) and/or `passphrase`.
 * @throws CryptoOptionsError synchronously if the options name no key or a malformed identity.
 */
export function createDecryptStream(opts: DecryptStreamOptions): Transform {
  return new DecryptTransform(opts);
}
