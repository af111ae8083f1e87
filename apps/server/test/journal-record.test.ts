import {
  decodeSegment,
  encodeRecord,
  JOURNAL_MAGIC,
  RECORD_PREFIX_BYTES,
  type JournalRecord,
} from '../src/store/journal-record';
import type { StoredItem } from '../src/store/receipts';

function item(id: string, extra: Partial<StoredItem> = {}): StoredItem {
  return {
    id,
    kind: 'dict',
    path: `items/2026-11-25/120000-deadbeef-1-${id}-dict.json`,
    bytes: 3,
    sha256: 'a'.repeat(64),
    format: 'json',
    encrypted: false,
    receivedAt: '2026-11-25T12:00:00.000Z',
    sender: '127.0.0.1:1',
    serverId: 'deadbeef-1',
    ...extra,
  };
}

const records: JournalRecord[] = [
  { item: item('one'), data: Buffer.from('{"a":1}') },
  { item: item('two', { kind: 'file', path: 'items/2026-11-25/120000-deadbeef-1-two-r.txt' }) },
  { item: item('three'), data: new Uint8Array(0) },
];

function segment(list: JournalRecord[]): { bytes: Buffer; ends: number[] } {
  const parts = list.map(encodeRecord);
  const ends: number[] = [];
  let at = JOURNAL_MAGIC.length;
  for (const p of parts) {
    at += p.length;
    ends.push(at);
  }
  return { bytes: Buffer.concat([JOURNAL_MAGIC, ...parts]), ends };
}

describe('journal records', () => {
  it('round-trip: receipts, inline bytes (empty ones too) and records without bytes', () => {
    const { bytes } = segment(records);
    const decoded = decodeSegment(bytes);
    expect(decoded.stoppedAt).toBeUndefined();
    expect(decoded.goodBytes).toBe(bytes.length);
    expect(decoded.records.map((r) => r.item)).toEqual(records.map((r) => r.item));
    expect(Buffer.from(decoded.records[0]?.data ?? [])).toEqual(Buffer.from('{"a":1}'));
    expect(decoded.records[1]?.data).toBeUndefined();
    expect(decoded.records[2]?.data).toEqual(new Uint8Array(0));
  });

  it('the zeros a segment is created with end its records cleanly, however many follow', () => {
    const { bytes } = segment(records);
    for (let zeros = 0; zeros <= 100; zeros++) {
      const decoded = decodeSegment(Buffer.concat([bytes, Buffer.alloc(zeros)]));
      expect(decoded.records.map((r) => r.item.id)).toEqual(['one', 'two', 'three']);
      expect(decoded.stoppedAt).toBeUndefined();
      expect(decoded.goodBytes).toBe(bytes.length);
    }
    expect(decodeSegment(Buffer.concat([JOURNAL_MAGIC, Buffer.alloc(1024)]))).toEqual({
      records: [],
      goodBytes: JOURNAL_MAGIC.length,
    });
  });

  it('a segment cut at any offset yields exactly the records wholly before the cut', () => {
    const { bytes, ends } = segment(records);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoded = decodeSegment(bytes.subarray(0, cut));
      if (cut < JOURNAL_MAGIC.length) {
        expect(decoded).toEqual({ records: [], goodBytes: 0, stoppedAt: 'magic' });
        continue;
      }
      const whole = ends.filter((e) => e <= cut).length;
      expect(decoded.records.map((r) => r.item.id)).toEqual(records.slice(0, whole).map((r) => r.item.id));
      expect(decoded.goodBytes).toBe(whole === 0 ? JOURNAL_MAGIC.length : ends[whole - 1]);
      // A cut inside the leading zero bytes of a record's header length looks like the zeros after the records.
      const rest = bytes.subarray(decoded.goodBytes, cut);
      expect(decoded.stoppedAt).toBe(rest.every((b) => b === 0) ? undefined : 'torn');
    }
  });

  it('a changed byte anywhere in a record ends the segment before that record', () => {
    const { bytes, ends } = segment(records);
    for (let at = JOURNAL_MAGIC.length; at < bytes.length; at++) {
      const damaged = Buffer.from(bytes);
      damaged[at] = (damaged[at] as number) ^ 0x40;
      const before = ends.filter((e) => e <= at).length;
      const decoded = decodeSegment(damaged);
      expect(decoded.records.map((r) => r.item.id)).toEqual(records.slice(0, before).map((r) => r.item.id));
      expect(decoded.stoppedAt).toBeDefined();
    }
  });

  it('refuses a segment without the magic, and headers naming paths outside items/<day>/', () => {
    expect(decodeSegment(Buffer.from('not a journal')).stoppedAt).toBe('magic');
    for (const path of [
      'items/2026-11-25/..',
      'items/2026-11-25/../../etc/passwd',
      '/etc/passwd',
      'receipts/x.json',
      'items/x/120000-a',
    ]) {
      const decoded = decodeSegment(Buffer.concat([JOURNAL_MAGIC, encodeRecord({ item: item('x', { path }) })]));
      expect(decoded).toEqual({ records: [], goodBytes: JOURNAL_MAGIC.length, stoppedAt: 'header' });
    }
    const huge = Buffer.alloc(RECORD_PREFIX_BYTES);
    huge.writeUInt32BE(0xffffffff, 0);
    expect(decodeSegment(Buffer.concat([JOURNAL_MAGIC, huge])).stoppedAt).toBe('header');
  });
});
