/**
 * The PROXY protocol, version 2 (the binary header HAProxy's `send-proxy-v2` puts before a connection's first byte;
 * https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt, section 2.2), decoded as it arrives: bytes in, at
 * most one header out. Pure: no sockets, no timers. docs/SERVER.md "Behind a load balancer" says how the server
 * uses it (`--proxy-protocol`).
 *
 * The decoder holds at most the 16-byte fixed part plus `maxPayloadBytes`: a peer that is not a balancer (or
 * speaks the text version 1, or our own protocol) is refused at the first byte that differs from the signature,
 * and a header announcing more than the bound is refused before any of its payload is kept.
 */

/** The 12 bytes every version 2 header starts with. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Signature, version and command, family and transport, and the 16-bit length of what follows. */
export const PROXY_V2_FIXED_BYTES = 16;
/**
 * Default bound on the part after the fixed 16 bytes: addresses (at most 216 bytes, for AF_UNIX) and TLVs.
 * HAProxy sends a few small TLVs at most (a unique id of up to 128 bytes, SSL facts); 4 KiB leaves room for all.
 */
export const PROXY_V2_MAX_PAYLOAD_BYTES = 4096;

/** Why a header was refused. Stable: logs and tests name them. */
export type ProxyHeaderCode =
  /** The bytes are not a version 2 signature (a client that spoke first, a version 1 text header). */
  | 'ERR_PROXY_SIGNATURE'
  /** The version nibble is not 2. */
  | 'ERR_PROXY_VERSION'
  /** The command nibble is neither LOCAL (0) nor PROXY (1). */
  | 'ERR_PROXY_COMMAND'
  /** An address family or transport the specification does not define. */
  | 'ERR_PROXY_FAMILY'
  /** The announced length is shorter than the addresses of its family. */
  | 'ERR_PROXY_LENGTH'
  /** The announced length is above the decoder's bound. */
  | 'ERR_PROXY_TOO_LARGE'
  /** The stream ended before the header was complete. */
  | 'ERR_PROXY_TRUNCATED';

export class ProxyHeaderError extends Error {
  readonly code: ProxyHeaderCode;
  /** Bytes the connection had sent when it was refused, when the reader of a socket knows (./proxy-accept.ts). */
  received: number | undefined;
  /** The peer closed (or reset) the connection before its header was complete (./proxy-accept.ts). */
  closedByPeer = false;
  constructor(code: ProxyHeaderCode, message: string) {
    super(message);
    this.name = 'ProxyHeaderError';
    this.code = code;
  }
}

export interface ProxyAddress {
  /** An IPv4 address in dotted form, or an IPv6 address in the compressed form node gives (`::1`, `::ffff:1.2.3.4`). */
  address: string;
  port: number;
}

/** A complete header. */
export interface ProxyHeader {
  /**
   * `local`: the balancer speaks for itself (a health check); the connection's own addresses stand.
   * `proxy`: relayed for a client; `source` is that client when the family is an IP one.
   */
  command: 'local' | 'proxy';
  /** The client's address (PROXY over TCP or UDP on IPv4 or IPv6); absent for LOCAL, UNSPEC and AF_UNIX. */
  source?: ProxyAddress;
  /** The address the client connected to, on the balancer. */
  destination?: ProxyAddress;
  /** Bytes that came after the header in the chunk that completed it: the connection's own first bytes. */
  rest: Buffer;
}

/** Address bytes per family (the high nibble): UNSPEC 0, AF_INET 4+4+2+2, AF_INET6 16+16+2+2, AF_UNIX 108+108. */
const FAMILY_BYTES: Readonly<Record<number, number>> = { 0: 0, 1: 12, 2: 36, 3: 216 };

export class ProxyHeaderDecoder {
  readonly #maxPayloadBytes: number;
  /** The header's bytes so far; never more than 16 + the announced (bounded) length. */
  #buffer: Buffer = Buffer.alloc(PROXY_V2_FIXED_BYTES);
  #have = 0;
  /** Known once the fixed part is in: the whole header's size. */
  #total: number | undefined;
  #done = false;

  constructor(maxPayloadBytes = PROXY_V2_MAX_PAYLOAD_BYTES) {
    this.#maxPayloadBytes = maxPayloadBytes;
  }

  /** Bytes taken so far. */
  get received(): number {
    return this.#have;
  }

  /**
   * Takes the next bytes of the connection. Returns the header once complete (its `rest` holds what followed it
   * in `chunk`); undefined while more is needed. Throws a ProxyHeaderError as soon as the bytes cannot be a
   * valid header. Not to be fed again after it returned a header or threw.
   */
  feed(chunk: Buffer): ProxyHeader | undefined {
    if (this.#done) throw new Error('ProxyHeaderDecoder: fed after the header was decoded or refused');
    let offset = 0;
    try {
      while (offset < chunk.length) {
        if (this.#have < PROXY_V2_SIGNATURE.length) {
          // The signature byte by byte: a stranger is refused at its first byte that differs, whatever the split.
          const byte = chunk[offset++] as number;
          this.#buffer[this.#have++] = byte;
          this.#checkSignature(this.#have - 1);
          continue;
        }
        const need = (this.#total ?? PROXY_V2_FIXED_BYTES) - this.#have;
        const take = Math.min(need, chunk.length - offset);
        chunk.copy(this.#buffer, this.#have, offset, offset + take);
        this.#have += take;
        offset += take;
        if (this.#total === undefined && this.#have === PROXY_V2_FIXED_BYTES) this.#readFixed();
        if (this.#total !== undefined && this.#have === this.#total) {
          this.#done = true;
          return { ...this.#parse(), rest: chunk.subarray(offset) };
        }
      }
      return undefined;
    } catch (err) {
      this.#done = true;
      throw err;
    }
  }

  /** The stream ended: throws ERR_PROXY_TRUNCATED unless a header was complete. */
  end(): void {
    if (this.#total !== undefined && this.#have === this.#total) return;
    if (this.#done) return;
    this.#done = true;
    throw new ProxyHeaderError(
      'ERR_PROXY_TRUNCATED',
      `the connection ended after ${this.#have} bytes of a PROXY protocol header`,
    );
  }

  #checkSignature(i: number): void {
    if (this.#buffer[i] === PROXY_V2_SIGNATURE[i]) return;
    throw new ProxyHeaderError(
      'ERR_PROXY_SIGNATURE',
      `not a PROXY protocol v2 header (byte ${i} is 0x${(this.#buffer[i] ?? 0).toString(16).padStart(2, '0')})`,
    );
  }

  /** The fixed part is in: checks version, command, family, and the length against the bound. */
  #readFixed(): void {
    const b = this.#buffer;
    const versionCommand = b[12] as number;
    const version = versionCommand >> 4;
    const command = versionCommand & 0x0f;
    if (version !== 2) throw new ProxyHeaderError('ERR_PROXY_VERSION', `PROXY protocol version ${version}, not 2`);
    if (command > 1) throw new ProxyHeaderError('ERR_PROXY_COMMAND', `PROXY protocol command ${command} is unknown`);
    const familyTransport = b[13] as number;
    const family = familyTransport >> 4;
    const transport = familyTransport & 0x0f;
    const addressBytes = FAMILY_BYTES[family];
    if (addressBytes === undefined || transport > 2) {
      throw new ProxyHeaderError(
        'ERR_PROXY_FAMILY',
        `PROXY protocol family/transport 0x${familyTransport.toString(16).padStart(2, '0')} is unknown`,
      );
    }
    const length = b.readUInt16BE(14);
    if (length > this.#maxPayloadBytes) {
      throw new ProxyHeaderError(
        'ERR_PROXY_TOO_LARGE',
        `PROXY protocol header of ${length} bytes after the fixed part; the limit is ${this.#maxPayloadBytes}`,
      );
    }
    // LOCAL may carry any family (and the receiver ignores it); PROXY must at least hold its addresses.
    if (command === 1 && length < addressBytes) {
      throw new ProxyHeaderError(
        'ERR_PROXY_LENGTH',
        `PROXY protocol length ${length} is shorter than the ${addressBytes} address bytes of its family`,
      );
    }
    this.#total = PROXY_V2_FIXED_BYTES + length;
    const whole = Buffer.alloc(this.#total);
    b.copy(whole, 0, 0, PROXY_V2_FIXED_BYTES);
    this.#buffer = whole;
  }

  /** The whole header is in: what it says. TLVs after the addresses are skipped unread. */
  #parse(): Omit<ProxyHeader, 'rest'> {
    const b = this.#buffer;
    const command = (b[12] as number) & 0x0f;
    if (command === 0) return { command: 'local' };
    const family = (b[13] as number) >> 4;
    const at = PROXY_V2_FIXED_BYTES;
    if (family === 0x1) {
      return {
        command: 'proxy',
        source: { address: ipv4(b, at), port: b.readUInt16BE(at + 8) },
        destination: { address: ipv4(b, at + 4), port: b.readUInt16BE(at + 10) },
      };
    }
    if (family === 0x2) {
      return {
        command: 'proxy',
        source: { address: ipv6(b, at), port: b.readUInt16BE(at + 32) },
        destination: { address: ipv6(b, at + 16), port: b.readUInt16BE(at + 34) },
      };
    }
    // UNSPEC or AF_UNIX: no IP address to report; the connection's own addresses stand.
    return { command: 'proxy' };
  }
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function ipv6(b: Buffer, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + 2 * i));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${ipv4(b, at + 12)}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}
