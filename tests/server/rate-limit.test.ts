import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { decide, RateLimiter } from '../../src/server/rate-limit.js';

const ns = `healthexport:test:${randomBytes(4).toString('hex')}`;
const limiters: RateLimiter[] = [];
function limiter(opts: ConstructorParameters<typeof RateLimiter>[0]): RateLimiter {
  const l = new RateLimiter({ namespace: ns, log: () => {}, ...opts });
  limiters.push(l);
  return l;
}

afterAll(async () => {
  await Promise.all(limiters.map((l) => l.close()));
  const redis = new Redis(inject('redisUrl'));
  try {
    const found = await redis.keys(`${ns}:*`);
    if (found.length) await redis.del(...found);
  } finally {
    redis.disconnect();
  }
});

describe('sliding-window rate limit', () => {
  it('is shared by every process through Redis, per key id', async () => {
    const a = limiter({ limit: 3, redisUrl: inject('redisUrl') });
    const b = limiter({ limit: 3, redisUrl: inject('redisUrl') });
    const t = 30_000 * 60_000 + 1000; // 1 s into a window
    expect((await a.check(7, t)).allowed).toBe(true);
    expect((await b.check(7, t)).allowed).toBe(true);
    const third = await a.check(7, t);
    expect(third).toMatchObject({ allowed: true, remaining: 0, backend: 'redis' });
    const fourth = await b.check(7, t);
    expect(fourth.allowed).toBe(false);
    expect(fourth.retryAfterS).toBeGreaterThan(0);
    expect((await a.check(8, t)).allowed).toBe(true);
    // Refusals are not counted; half a window later the previous count weighs half.
    const next = 30_001 * 60_000 + 30_000;
    expect((await a.check(7, next)).allowed).toBe(true); // 3 * 0.5 + 0 + 1 <= 3
    expect((await a.check(7, next)).allowed).toBe(false); // 3 * 0.5 + 1 + 1 > 3
  });

  it('does not allow a burst of 2 x limit across a window boundary', async () => {
    const l = limiter({ limit: 5, redisUrl: inject('redisUrl') });
    const end = 40_000 * 60_000 - 100;
    for (let i = 0; i < 5; i++) expect((await l.check('b', end)).allowed).toBe(true);
    expect((await l.check('b', end + 200)).allowed).toBe(false);
  });

  it('falls back to memory with one warning when Redis is unreachable', async () => {
    const lines: string[] = [];
    const l = limiter({ limit: 2, redisUrl: 'redis://127.0.0.1:1', log: (s) => lines.push(s) });
    const t = 50_000 * 60_000;
    const r = [await l.check(1, t), await l.check(1, t), await l.check(1, t), await l.check(2, t)];
    expect(r.map((d) => d.allowed)).toEqual([true, true, false, true]);
    expect(r.every((d) => d.backend === 'memory')).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/warning: Redis unavailable for rate limiting/);
  });

  it('computes Retry-After from the counts', () => {
    // Full current window: wait for the next one plus the decay of this one.
    expect(decide(5, 60_000, 10_000, 5, 0, false).retryAfterS).toBe(62);
    // Previous window full, current empty, limit 5: 5 * (1 - e/W) + 1 <= 5 -> e >= 12 s.
    expect(decide(5, 60_000, 2_000, 0, 5, false).retryAfterS).toBe(10);
    expect(decide(5, 60_000, 2_000, 1, 0, true)).toMatchObject({ allowed: true, remaining: 4, retryAfterS: 0 });
  });

  it('limit 0 is off', async () => {
    const l = limiter({ limit: 0 });
    expect((await l.check(1)).backend).toBe('off');
  });
});
