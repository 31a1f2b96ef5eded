import { describe, expect, it } from 'vitest';
import { BatchScheduler } from '../../src/load/scheduler.js';

/** A job that records when it starts and ends, and finishes when told. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return {
    open,
    job: async () => {
      log.push(`${name}+`);
      await opened;
      log.push(`${name}-`);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('BatchScheduler', () => {
  it('runs batches of one table at once when their time spans are disjoint', async () => {
    const s = new BatchScheduler(3, 10);
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    s.submit('hr', { min: 0, max: 10 }, a.job);
    s.submit('hr', { min: 11, max: 20 }, b.job);
    await tick();
    expect(log).toEqual(['a+', 'b+']);
    b.open();
    a.open();
    await s.drain();
    expect(log).toEqual(['a+', 'b+', 'b-', 'a-']);
  });

  it('holds a batch back until every earlier overlapping batch of its table is done', async () => {
    const s = new BatchScheduler(3, 10);
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const c = gate(log, 'c');
    s.submit('hr', { min: 0, max: 10 }, a.job);
    s.submit('other', { min: 0, max: 10 }, b.job);
    s.submit('hr', { min: 10, max: 20 }, c.job); // shares instant 10 with a
    await tick();
    expect(log).toEqual(['a+', 'b+']);
    a.open();
    await tick();
    await tick();
    expect(log).toEqual(['a+', 'b+', 'a-', 'c+']);
    b.open();
    c.open();
    await s.drain();
  });

  it('makes the reader wait once the pending batches hold maxPendingBytes, but always lets one batch go', async () => {
    const s = new BatchScheduler(1, 10, 100);
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const c = gate(log, 'c');
    let roomed = false;
    s.submit('w', { min: 0, max: 1 }, a.job, 60);
    await s.waitForRoom(); // 60 of 100 bytes: room
    s.submit('w', { min: 2, max: 3 }, b.job, 60);
    const room = s.waitForRoom().then(() => (roomed = true)); // 120 bytes pending: wait
    await tick();
    expect(roomed).toBe(false);
    a.open();
    await room; // a done: 60 bytes pending
    expect(roomed).toBe(true);
    b.open();
    await s.drain();
    await s.waitForRoom(); // nothing pending: room at once
    s.submit('w', { min: 4, max: 5 }, c.job, 1000); // larger than the whole budget: still runs
    await tick();
    expect(log.at(-1)).toBe('c+');
    c.open();
    await s.drain();
    expect(log).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
  });

  it('never runs more than `concurrency` jobs, and drain rethrows the first failure', async () => {
    const s = new BatchScheduler(2, 10);
    const log: string[] = [];
    const gates = [0, 1, 2].map((i) => gate(log, `j${i}`));
    gates.forEach((g, i) => s.submit('hr', { min: i * 10, max: i * 10 + 5 }, g.job));
    await tick();
    expect(log).toEqual(['j0+', 'j1+']);
    s.submit('x', { min: 0, max: 0 }, async () => {
      throw new Error('boom');
    });
    gates[0].open();
    await tick();
    await tick();
    gates.forEach((g) => g.open());
    await expect(s.drain()).rejects.toThrow('boom');
  });
});
