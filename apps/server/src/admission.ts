/**
 * Who gets a connection slot: at most `maxPerAddress` connections from one address (an IPv4 address, or an IPv6
 * /64, where one host usually holds the whole prefix), and at most `maxPending` connections that have not yet
 * completed their handshake. A new connection beyond `maxPending` is still admitted: the oldest waiting one from
 * the address with the most waiting is closed instead. Sockets that never say hello thus cannot lock out clients
 * that complete the handshake promptly (a flood only evicts itself), as nginx and HAProxy shed idle connections
 * first under pressure.
 */
import { isIPv6 } from 'node:net';

/** One admitted connection, as admission sees it. */
export interface Admitted {
  readonly address: string;
  /** Closes the connection because a newer one needs its place before the handshake. */
  evict(): void;
}

export interface AdmissionLimits {
  maxPending: number;
  maxPerAddress: number;
}

export class Admission<T extends Admitted> {
  readonly #limits: AdmissionLimits;
  /** Connections per address key, pending or not. */
  #perAddress = new Map<string, number>();
  /** Connections waiting for their handshake, per address key, oldest first. */
  #pending = new Map<string, Set<T>>();
  #pendingCount = 0;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  get pendingCount(): number {
    return this.#pendingCount;
  }

  /** Whether a connection from `address` may be admitted (the per-address limit). */
  allows(address: string): boolean {
    return (this.#perAddress.get(addressKey(address)) ?? 0) < this.#limits.maxPerAddress;
  }

  /** Admits a new connection as pending, evicting the oldest pending one of the busiest address when full. */
  admit(conn: T): void {
    const key = addressKey(conn.address);
    this.#perAddress.set(key, (this.#perAddress.get(key) ?? 0) + 1);
    if (this.#pendingCount >= this.#limits.maxPending) this.#evictOne();
    let set = this.#pending.get(key);
    if (!set) {
      set = new Set();
      this.#pending.set(key, set);
    }
    set.add(conn);
    this.#pendingCount++;
  }

  /** The connection completed its handshake: it no longer counts as pending. */
  welcomed(conn: T): void {
    this.#unpend(conn);
  }

  /** The connection closed. */
  release(conn: T): void {
    this.#unpend(conn);
    const key = addressKey(conn.address);
    const n = (this.#perAddress.get(key) ?? 1) - 1;
    if (n <= 0) this.#perAddress.delete(key);
    else this.#perAddress.set(key, n);
  }

  #unpend(conn: T): void {
    const key = addressKey(conn.address);
    const set = this.#pending.get(key);
    if (!set?.delete(conn)) return;
    this.#pendingCount--;
    if (set.size === 0) this.#pending.delete(key);
  }

  #evictOne(): void {
    let busiest: Set<T> | undefined;
    for (const set of this.#pending.values()) if (!busiest || set.size > busiest.size) busiest = set;
    const oldest = busiest?.values().next().value;
    if (oldest === undefined) return;
    this.#unpend(oldest);
    oldest.evict();
  }
}

/** The key one host is counted under: the IPv4 address, or the first 64 bits of an IPv6 address. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const a = head === '' ? [] : head.split(':');
  const b = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(Math.max(0, 8 - a.length - b.length)).fill('0');
  return [...a, ...zeros, ...b].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}
