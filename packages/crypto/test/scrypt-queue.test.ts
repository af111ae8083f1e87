// SlotQueue: a fixed number of slots, callers served in order, and a bounded line for callers that ask for one.
import { SlotQueue } from '../src/scrypt-queue';

/** A job whose end the test decides. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('runs at most `concurrency` jobs, in arrival order, handing each freed slot to the next waiter', async () => {
  const q = new SlotQueue(1, 10);
  const gates = [gate(), gate(), gate()];
  const started: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const jobs = gates.map((g, i) =>
    q.run(async () => {
      started.push(i);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await g.promise;
      inFlight--;
      return i;
    }),
  );
  await tick();
  expect(started).toEqual([0]);
  expect([q.running, q.waiting]).toEqual([1, 2]);
  // A caller arriving as soon as the first job is done must wait behind the two already waiting, not slip in.
  const late = (jobs[0] as Promise<number>).then(() =>
    q.run(async () => {
      started.push(99);
      return 99;
    }),
  );
  gates[0]?.open();
  await jobs[0];
  await tick();
  expect(started).toEqual([0, 1]);
  expect([q.running, q.waiting]).toEqual([1, 2]);
  for (const g of gates.slice(1)) g.open();
  expect(await Promise.all([...jobs, late])).toEqual([0, 1, 2, 99]);
  expect(started).toEqual([0, 1, 2, 99]);
  expect(maxInFlight).toBe(1);
  expect([q.running, q.waiting]).toEqual([0, 0]);
});

test('a bounded caller finding `maxWaiting` others waiting is refused at once and its job never runs; an unbounded one waits', async () => {
  const q = new SlotQueue(1, 2);
  const g = gate();
  const refuse = (): Error => Object.assign(new Error('busy'), { code: 'BUSY' });
  const held = q.run(() => g.promise, refuse);
  const waiting = [q.run(async () => 'a', refuse), q.run(async () => 'b', refuse)];
  let ran = false;
  await expect(
    q.run(async () => {
      ran = true;
    }, refuse),
  ).rejects.toMatchObject({ code: 'BUSY' });
  expect(ran).toBe(false);
  const unbounded = q.run(async () => 'c');
  expect(q.waiting).toBe(3);
  g.open();
  await held;
  expect(await Promise.all([...waiting, unbounded])).toEqual(['a', 'b', 'c']);
});

test('a job that throws frees its slot', async () => {
  const q = new SlotQueue(1, 1);
  await expect(q.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  expect(await q.run(async () => 'next')).toBe('next');
  expect(q.running).toBe(0);
});

test('rejects nonsense sizes', () => {
  expect(() => new SlotQueue(0, 1)).toThrow(RangeError);
  expect(() => new SlotQueue(1, -1)).toThrow(RangeError);
});
