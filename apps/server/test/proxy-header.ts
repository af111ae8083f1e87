/**
 * PROXY protocol v2 headers as HAProxy's `send-proxy-v2` writes them, for the tests: the server only decodes
 * (../src/proxy-protocol.ts).
 */
import { PROXY_V2_FIXED_BYTES, PROXY_V2_SIGNATURE, type ProxyAddress } from '../src/proxy-protocol';

/** A header for `header`, followed by `tlvs` (already encoded). */
export function encodeProxyHeader(
  header: { command: 'local' } | { command: 'proxy'; source: ProxyAddress; destination: ProxyAddress },
  tlvs: Buffer = Buffer.alloc(0),
): Buffer {
  if (header.command === 'local') {
    const fixed = Buffer.alloc(PROXY_V2_FIXED_BYTES);
    PROXY_V2_SIGNATURE.copy(fixed);
    fixed[12] = 0x20;
    fixed[13] = 0x00;
    fixed.writeUInt16BE(tlvs.length, 14);
    return Buffer.concat([fixed, tlvs]);
  }
  const v6 = header.source.address.includes(':');
  const addressBytes = v6 ? 36 : 12;
  const out = Buffer.alloc(PROXY_V2_FIXED_BYTES + addressBytes);
  PROXY_V2_SIGNATURE.copy(out);
  out[12] = 0x21;
  out[13] = v6 ? 0x21 : 0x11;
  out.writeUInt16BE(addressBytes + tlvs.length, 14);
  const at = PROXY_V2_FIXED_BYTES;
  const size = v6 ? 16 : 4;
  writeIp(out, at, header.source.address, v6);
  writeIp(out, at + size, header.destination.address, v6);
  out.writeUInt16BE(header.source.port, at + 2 * size);
  out.writeUInt16BE(header.destination.port, at + 2 * size + 2);
  return Buffer.concat([out, tlvs]);
}

function writeIp(out: Buffer, at: number, address: string, v6: boolean): void {
  if (!v6) {
    address.split('.').forEach((part, i) => {
      out[at + i] = Number(part);
    });
    return;
  }
  const [head = '', tail] = address.split('::');
  const a = head === '' ? [] : head.split(':');
  const b = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...a, ...Array<string>(8 - a.length - b.length).fill('0'), ...b];
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), at + 2 * i);
}
