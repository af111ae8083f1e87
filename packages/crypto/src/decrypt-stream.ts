import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { AgeDecoder } from './codec';
import type { DecryptOptions } from './header';

/** Options of {@link createDecryptStream}: the key material plus stream tuning. */
export type DecryptStreamOptions = DecryptOptions & Pick<TransformOptions, 'highWaterMark'>;

function joined(parts: Buffer[]): Buffer | undefined {
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

class DecryptTransform extends Transform {
  private readonly decoder: AgeDecoder;

  constructor(opts: DecryptStreamOptions) {
    super(opts.highWaterMark === undefined ? {} : { highWaterMark: opts.highWaterMark });
    this.decoder = new AgeDecoder(opts);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.decoder.inPayload) {
      // Hot path: synchronous, no promise per chunk.
      let out: Buffer | undefined;
      try {
        out = joined(this.decoder.pushPayload(chunk));
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback(null, out);
      return;
    }
    this.decoder.push(chunk).then(
      (parts) => callback(null, joined(parts)),
      (err: Error) => callback(err),
    );
  }

  override _flush(callback: TransformCallback): void {
    try {
      callback(null, this.decoder.finish());
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
