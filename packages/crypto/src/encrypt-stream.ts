import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { PAYLOAD_NONCE_SIZE } from './constants';
import { sealHeader, validateEncryptOptions, type EncryptOptions } from './header';
import { PayloadSealer, payloadKey } from './payload';

/** Options of {@link createEncryptStream}: the key material plus stream tuning. */
export type EncryptStreamOptions = EncryptOptions & Pick<TransformOptions, 'highWaterMark'>;

class EncryptTransform extends Transform {
  private readonly ready: Promise<{ header: Buffer; sealer: PayloadSealer }>;
  private sealer: PayloadSealer | undefined;

  constructor(opts: EncryptStreamOptions) {
    super(opts.highWaterMark === undefined ? {} : { highWaterMark: opts.highWaterMark });
    validateEncryptOptions(opts);
    // Start the header now (scrypt takes ~1 s); the first write or the end waits for it.
    this.ready = sealHeader(opts).then(({ header, fileKey }) => {
      const nonce = randomBytes(PAYLOAD_NONCE_SIZE);
      const sealer = new PayloadSealer(payloadKey(fileKey, nonce));
      fileKey.fill(0);
      return { header: Buffer.concat([header, nonce]), sealer };
    });
    this.ready.catch(() => undefined); // surfaced by the first _transform/_flush, never unhandled
  }

  private async start(): Promise<PayloadSealer> {
    const { header, sealer } = await this.ready;
    this.push(header);
    this.sealer = sealer;
    return sealer;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.sealer !== undefined) {
      let out: Buffer;
      try {
        out = this.sealer.push(chunk);
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback(null, out.length > 0 ? out : undefined);
      return;
    }
    this.start().then(
      (sealer) => {
        const out = sealer.push(chunk);
        callback(null, out.length > 0 ? out : undefined);
      },
      (err: Error) => callback(err),
    );
  }

  override _flush(callback: TransformCallback): void {
    const finish = (sealer: PayloadSealer): void => callback(null, sealer.finish());
    if (this.sealer !== undefined) {
      finish(this.sealer);
      return;
    }
    this.start().then(finish, (err: Error) => callback(err));
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
