/**
 * The claim of a partial (src/store/partial-claims.ts) on real files: created exclusively, left alone while its
 * owner lives, taken over from a gone owner, from this process outside any put, and from a crash that left it
 * empty (only once it is old: an empty claim may be one being written this instant).
 */
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@proj/test-utils';
import pino from 'pino';
import { claim, type ClaimOptions } from '../../src/store/partial-claims';

const ME = 'aaaaaaaa-1';
let dir: { path: string; remove: () => Promise<void> };
let path: string;
let n = 0;
const gone = new Set<string>();
const options: ClaimOptions = {
  serverId: ME,
  isGone: (owner) => gone.has(owner),
  aside: (p) => `${p}.${ME}.${++n}.aside`,
  log: pino({ level: 'silent' }),
};

beforeEach(async () => {
  dir = await makeTempDir('partial-claims-');
  path = join(dir.path, 'id.owner');
  gone.clear();
});
afterEach(async () => {
  await dir.remove();
});

test('a free partial is claimed: the claim holds our server id', async () => {
  expect(await claim(path, options)).toBe(true);
  expect(readFileSync(path, 'utf8')).toBe(ME);
});

test("a live owner's claim is left alone", async () => {
  writeFileSync(path, 'bbbbbbbb-2');
  expect(await claim(path, options)).toBe(false);
  expect(readFileSync(path, 'utf8')).toBe('bbbbbbbb-2');
});

test("a gone owner's claim, and a stale one of this process, are taken over", async () => {
  writeFileSync(path, 'bbbbbbbb-2');
  gone.add('bbbbbbbb-2');
  expect(await claim(path, options)).toBe(true);
  expect(readFileSync(path, 'utf8')).toBe(ME);
  expect(await claim(path, options)).toBe(true); // ours, outside any put: stale
  expect(readFileSync(path, 'utf8')).toBe(ME);
});

test('an empty claim is left alone while it may be being written, and taken over once old', async () => {
  writeFileSync(path, '');
  expect(await claim(path, options)).toBe(false);
  const old = (Date.now() - 60_000) / 1000;
  utimesSync(path, old, old);
  expect(await claim(path, options)).toBe(true);
  expect(readFileSync(path, 'utf8')).toBe(ME);
});
