/**
 * The PROXY protocol v2 decoder (../src/proxy-protocol.ts): every input, valid or not, gives the same outcome
 * however it is split into chunks (at every offset, and one byte at a time), and a refusal comes with its code
 * at the first byte that decides it, holding no more than the bound.
 */
import {
  ipv6,
  PROXY_V2_FIXED_BYTES,
  PROXY_V2_MAX_PAYLOAD_BYTES,
  PROXY_V2_SIGNATURE,
  ProxyHeaderDecoder,
  ProxyHeaderError,
  type ProxyHeader,
} from '../src/proxy-protocol';
import { encodeProxyHeader } from './proxy-header';

/** What a decoder made of the whole input: the header with the bytes that followed it, or a code. */
type Outcome =
  | { header: Omit<ProxyHeader, 'rest'>; rest: string; at?: undefined }
  | { code: string; at: number }
  | { incomplete: true };

function decodeIn(chunks: Buffer[]): Outcome {
  const decoder = new ProxyHeaderDecoder();
  for (const [i, chunk] of chunks.entries()) {
    let header: ProxyHeader | undefined;
    try {
      header = decoder.feed(chunk);
    } catch (err) {
      if (!(err instanceof ProxyHeaderError)) throw err;
      return { code: err.code, at: decoder.received };
    }
    if (header) {
      const { rest, ...fields } = header;
      const after = Buffer.concat([rest, ...chunks.slice(i + 1)]);
      return { header: fields, rest: after.toString('hex') };
    }
  }
  try {
    decoder.end();
  } catch (err) {
    if (err instanceof ProxyHeaderError) return { code: err.code, at: decoder.received };
    throw err;
  }
  return { incomplete: true };
}

/** The outcome of the whole input in one chunk must be the outcome of every split (the byte count too). */
function expectSameAtEverySplit(input: Buffer): Outcome {
  const whole = decodeIn([input]);
  for (let k = 0; k <= input.length; k++) {
    expect({ k, ...decodeIn([input.subarray(0, k), input.subarray(k)]) }).toEqual({ k, ...whole });
  }
  const bytes = [...input].map((b) => Buffer.from([b]));
  const byByte = decodeIn(bytes);
  // One byte at a time the decoder stops at the deciding byte, so a refusal's count is the same as above.
  expect(byByte).toEqual(whole);
  return whole;
}

const payload = Buffer.from('00000010017b7d', 'hex'); // what a client sends next: any bytes
const v4 = { source: { address: '203.0.113.7', port: 51234 }, destination: { address: '10.0.0.2', port: 5050 } };
const v6 = {
  source: { address: '2001:db8::42', port: 40000 },
  destination: { address: '2001:db8:0:0:1::1', port: 5050 },
};
// PP2_TYPE_UNIQUE_ID (0x05) and a NOOP (0x04), as HAProxy may add
const tlvs = Buffer.from('05000461626364040002ffff', 'hex');

describe('valid headers', () => {
  test.each([
    ['PROXY over IPv4', encodeProxyHeader({ command: 'proxy', ...v4 }), { command: 'proxy', ...v4 }],
    [
      'PROXY over IPv6',
      encodeProxyHeader({ command: 'proxy', ...v6 }),
      {
        command: 'proxy',
        source: { address: '2001:db8::42', port: 40000 },
        destination: { address: '2001:db8::1:0:0:1', port: 5050 },
      },
    ],
    ['PROXY with TLVs', encodeProxyHeader({ command: 'proxy', ...v4 }, tlvs), { command: 'proxy', ...v4 }],
    ['LOCAL (a health check)', encodeProxyHeader({ command: 'local' }), { command: 'local' }],
    ['LOCAL with TLVs', encodeProxyHeader({ command: 'local' }, tlvs), { command: 'local' }],
  ])('%s, then the client bytes, at every split', (_name, header, expected) => {
    const outcome = expectSameAtEverySplit(Buffer.concat([header, payload]));
    expect(outcome).toEqual({ header: expected, rest: payload.toString('hex') });
  });

  test('PROXY with family UNSPEC or AF_UNIX names no address (the socket’s own stands)', () => {
    const unspec = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x00, 0x00, 0x00])]);
    expect(expectSameAtEverySplit(unspec)).toEqual({ header: { command: 'proxy' }, rest: '' });
    const unix = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x31, 0x00, 216]), Buffer.alloc(216, 0x61)]);
    expect(expectSameAtEverySplit(unix)).toEqual({ header: { command: 'proxy' }, rest: '' });
  });

  test('the header alone, with nothing after it, leaves an empty rest', () => {
    expect(expectSameAtEverySplit(encodeProxyHeader({ command: 'proxy', ...v4 }))).toEqual({
      header: { command: 'proxy', ...v4 },
      rest: '',
    });
  });

  test('IPv6 text is RFC 5952 (as node writes remoteAddress)', () => {
    const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
    expect(ipv6(hex('0000 0000 0000 0000 0000 0000 0000 0001'), 0)).toBe('::1');
    expect(ipv6(hex('0000 0000 0000 0000 0000 ffff cb00 7107'), 0)).toBe('::ffff:203.0.113.7');
    expect(ipv6(hex('2001 0db8 0000 0001 0000 0000 0000 0001'), 0)).toBe('2001:db8:0:1::1');
    expect(ipv6(hex('2001 0db8 0000 0000 0001 0000 0000 0001'), 0)).toBe('2001:db8::1:0:0:1');
    expect(ipv6(hex('2001 0db8 0001 0002 0003 0004 0005 0006'), 0)).toBe('2001:db8:1:2:3:4:5:6');
    expect(ipv6(hex('2001 0000 0db8 0001 0002 0003 0004 0005'), 0)).toBe('2001:0:db8:1:2:3:4:5');
    expect(ipv6(hex('0000 0000 0000 0000 0000 0000 0000 0000'), 0)).toBe('::');
  });
});

describe('refused headers, with a stable code at the deciding byte', () => {
  const good = encodeProxyHeader({ command: 'proxy', ...v4 });
  const withByte = (at: number, value: number): Buffer => {
    const b = Buffer.from(good);
    b[at] = value;
    return b;
  };
  /** A header announcing `n` bytes after the fixed part; `carried` of them follow (a refusal comes before the rest). */
  const withLength = (n: number, carried = n): Buffer => {
    const b = Buffer.concat([good.subarray(0, PROXY_V2_FIXED_BYTES), Buffer.alloc(carried)]);
    b.writeUInt16BE(n, 14);
    return b;
  };

  test.each([
    ['our own protocol first (no header)', 'ERR_PROXY_SIGNATURE', 1, Buffer.concat([payload, good])],
    ['a version 1 text header', 'ERR_PROXY_SIGNATURE', 1, Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n')],
    ['a signature wrong in its last byte', 'ERR_PROXY_SIGNATURE', 12, withByte(11, 0x0b)],
    ['version 1 in the binary form', 'ERR_PROXY_VERSION', 16, withByte(12, 0x11)],
    ['version 3', 'ERR_PROXY_VERSION', 16, withByte(12, 0x31)],
    ['command 2', 'ERR_PROXY_COMMAND', 16, withByte(12, 0x22)],
    ['command 15', 'ERR_PROXY_COMMAND', 16, withByte(12, 0x2f)],
    ['family 4', 'ERR_PROXY_FAMILY', 16, withByte(13, 0x41)],
    ['transport 3', 'ERR_PROXY_FAMILY', 16, withByte(13, 0x13)],
    ['IPv4 with 11 address bytes', 'ERR_PROXY_LENGTH', 16, withLength(11)],
    ['IPv6 with 12 address bytes', 'ERR_PROXY_LENGTH', 16, withByte(13, 0x21)],
    ['a length over the bound', 'ERR_PROXY_TOO_LARGE', 16, withLength(PROXY_V2_MAX_PAYLOAD_BYTES + 1, 32)],
    ['the largest length', 'ERR_PROXY_TOO_LARGE', 16, withLength(0xffff, 32)],
    ['a header cut in its signature', 'ERR_PROXY_TRUNCATED', 7, good.subarray(0, 7)],
    ['a header cut in its fixed part', 'ERR_PROXY_TRUNCATED', 15, good.subarray(0, 15)],
    ['a header cut in its addresses', 'ERR_PROXY_TRUNCATED', 20, good.subarray(0, 20)],
    ['nothing at all', 'ERR_PROXY_TRUNCATED', 0, Buffer.alloc(0)],
  ])('%s: %s after %d bytes, at every split', (_name, code, at, input) => {
    expect(expectSameAtEverySplit(input)).toEqual({ code, at });
  });

  test('a header at the bound is taken; the decoder holds only the header, not what follows', () => {
    const input = Buffer.concat([withLength(PROXY_V2_MAX_PAYLOAD_BYTES), Buffer.alloc(1 << 20, 7)]);
    const decoder = new ProxyHeaderDecoder();
    const header = decoder.feed(input);
    expect(header?.command).toBe('proxy');
    expect(decoder.received).toBe(PROXY_V2_FIXED_BYTES + PROXY_V2_MAX_PAYLOAD_BYTES);
    expect(header?.rest.length).toBe(1 << 20);
  });

  test('a bound of its own: a smaller one refuses what the default takes', () => {
    const decoder = new ProxyHeaderDecoder(64);
    expect(() => decoder.feed(encodeProxyHeader({ command: 'proxy', ...v4 }, Buffer.alloc(60)))).toThrow(
      expect.objectContaining({ code: 'ERR_PROXY_TOO_LARGE' }),
    );
  });

  test('feeding after the outcome is a programming error', () => {
    const decoder = new ProxyHeaderDecoder();
    decoder.feed(encodeProxyHeader({ command: 'local' }));
    expect(() => decoder.feed(Buffer.from([1]))).toThrow(/fed after/);
  });
});
