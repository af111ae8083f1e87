import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { AgeEncoder } from './codec';
import type { EncryptOptions } from './header';

/** Options of {@link createEncryptStream}: the key material plus stream tuning. */
export type EncryptStreamOptions = EncryptOptions & Pick<TransformOptions, 'highWaterMark'>;

/** One buffer per input write: fewer, larger writes downstream (file and socket writes cost per call). */
function joined(parts: Buffer[]): Buffer | undefined {
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

class EncryptTransform extends Transform {
  private readonly encoder: AgeEncoder;

  constructor(opts: EncryptStreamOptions) {
    super(opts.highWaterMark === undefined ? {} : { highWaterMark: opts.highWaterMark });
    this.encoder = new AgeEncoder(opts);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.encoder.started) {
      // Hot path: synchronous, no promise per chunk.
      let out: Buffer | undefined;
      try {
        out = joined(this.encoder.push(chunk));
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback(null, out);
      return;
    }
    this.encoder.start().then(
      (prologue) => {
        this.push(prologue);
        callback(null, joined(this.encoder.push(chunk)));
      },
      (err: Error) => callback(err),
    );
  }

  override _flush(callback: TransformCallback): void {
    if (this.encoder.started) {
      callback(null, this.encoder.finish());
      return;
    }
    this.encoder.start().then(
      (prologue) => {
        this.push(prologue);
        callback(null, this.encoder.finish());
      },
      (err: Error) => callback(err),
    );
  }
}

/**
 * Creates a Transform that turns plaintext into an age file (binary, age-encryption.org/v1).
 *
 * Memory stays bounded: at most one 64 KiB chunk is carried between writes, and the stream honours backpressure
 * like any Transform. Use it in `stream.pipeline(source, createEncryptStream({ recipients: [r] }), sink)`.
 *
 * @param opts - `recipients` (`age1…`) or `passphrase` (exclusive); `scryptWorkFactor` for passphrases.
 * @throws CryptoOptionsError synchronously if the options name no key, both modes, or a malformed recipient.
 */
export function createEncryptStream(opts: EncryptStreamOptions): Transform {
  return new EncryptTransform(opts);
}
