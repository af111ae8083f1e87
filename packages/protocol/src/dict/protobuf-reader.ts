/**
 * The protobuf wire primitives the binary decoder reads (docs/PROTOCOL.md §5.5): varints, doubles, booleans and
 * length-delimited UTF-8, from a byte array, each refused with ERR_DECODE when it runs past the end.
 *
 * They accept only the canonical shape (§5.5, "Decoding is strict"): a varint of at most 32 bits in the fewest
 * bytes its value needs, a boolean that is one byte 0 or 1. Strings are strict UTF-8 (`decodeUtf8`). Short ASCII strings, most keys and values, are built here instead: making a
 * view of the bytes and calling the runtime's decoder for each was a quarter of the decoder's time.
 */
import { DecodeError } from '../errors';
import { decodeUtf8 } from './bytes';

const FORMAT = 'protobuf';

/** Strings up to this many bytes are tried as ASCII by hand; longer ones go to the runtime's decoder at once. */
const SHORT_STRING = 32;

function truncated(): never {
  throw new DecodeError(FORMAT, 'the message ends inside a field');
}

/** A read position in a protobuf message. Every read checks the end of the bytes, never of a sub-message. */
export class WireReader {
  pos = 0;
  private readonly view: DataView;

  private readonly buf: Uint8Array;

  constructor(bytes: Uint8Array) {
    // protobufjs's Reader also took a plain array of bytes from untyped callers; so does this one.
    this.buf = Array.isArray(bytes) ? new Uint8Array(bytes) : bytes;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** The number of bytes in the message. */
  get length(): number {
    return this.buf.length;
  }

  /**
   * A varint of at most 32 bits, in the fewest bytes its value needs (§5.5: a tag or a length written longer, or
   * a value past 32 bits, which no tag or length of a Struct can be, is not the canonical shape).
   */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= buf.length) truncated();
    const first = buf[pos] as number;
    if (first < 0x80) {
      this.pos = pos + 1;
      return first;
    }
    let value = 0;
    for (let i = 0; i < 5; i++) {
      if (pos >= buf.length) truncated();
      const b = buf[pos++] as number;
      if (i < 4) value |= (b & 0x7f) << (7 * i);
      else if (b > 0x0f) throw new DecodeError(FORMAT, 'a varint past 32 bits');
      else value |= b << 28;
      if (b < 0x80) {
        if (b === 0) throw new DecodeError(FORMAT, 'a varint written in more bytes than it needs');
        this.pos = pos;
        return value >>> 0;
      }
    }
    throw new DecodeError(FORMAT, 'a varint past 32 bits');
  }

  /** A boolean: one byte, 0 or 1 (§5.5). */
  bool(): boolean {
    if (this.pos >= this.buf.length) truncated();
    const b = this.buf[this.pos++] as number;
    if (b > 1) throw new DecodeError(FORMAT, 'a bool_value other than a one-byte 0 or 1');
    return b === 1;
  }

  /** A little-endian double (wire type I64). */
  double(): number {
    if (this.pos + 8 > this.buf.length) truncated();
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** A length-delimited UTF-8 string. */
  string(): string {
    const start = this.skipLengthDelimited();
    const length = this.pos - start;
    const ascii = length <= SHORT_STRING ? asciiString(this.buf, start, this.pos) : undefined;
    return ascii ?? decodeUtf8(this.buf.subarray(start, this.pos), FORMAT);
  }

  /** A length-delimited UTF-8 string that is a key: as `string()`, through the cache of short ASCII keys. */
  key(): string {
    const start = this.skipLengthDelimited();
    const length = this.pos - start;
    const ascii = length <= SHORT_STRING ? asciiKey(this.buf, start, this.pos) : undefined;
    return ascii ?? decodeUtf8(this.buf.subarray(start, this.pos), FORMAT);
  }

  /** Reads a length and moves past that many bytes; returns where they start. */
  private skipLengthDelimited(): number {
    const length = this.uint32();
    const start = this.pos;
    if (start + length > this.buf.length) truncated();
    this.pos = start + length;
    return start;
  }
}

const KEY_CACHE_SIZE = 512;
/**
 * The last key read for each hash of its bytes. The same few keys come back in every record; handing out the
 * same string again saves building it, and the engine already knows it as a property name. A hit is compared
 * character by character, so a collision costs a miss, never a wrong key; the cache holds at most 512 strings of
 * up to 32 characters.
 */
const keyCache: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);

/** As `asciiString`, through `keyCache`. */
function asciiKey(buf: Uint8Array, start: number, end: number): string | undefined {
  let hash = end - start;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c >= 0x80) return undefined;
    hash = (hash * 31 + c) | 0;
  }
  const slot = hash & (KEY_CACHE_SIZE - 1);
  const cached = keyCache[slot];
  if (cached !== undefined && cached.length === end - start) {
    let i = 0;
    while (i < cached.length && cached.charCodeAt(i) === buf[start + i]) i++;
    if (i === cached.length) return cached;
  }
  const s = asciiString(buf, start, end);
  keyCache[slot] = s;
  return s;
}

/** The bytes as a string when they are all ASCII (always valid UTF-8); undefined otherwise. */
function asciiString(buf: Uint8Array, start: number, end: number): string | undefined {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}
