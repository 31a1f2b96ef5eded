/**
 * The cache against the real Redis from global-setup (inject('redisUrl')). Every key of this
 * file lives under a random prefix, so parallel test files and real data never collide.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { DEFAULT_TTLS, DISABLED_NOTICE, openCache, type Cache } from '../../src/cache/cache.js';
import { ConfigError } from '../../src/errors.js';
import { cacheRequestsTotal } from '../../src/metrics/registry.js';

const url = inject('redisUrl');
const base = `he-test-${randomBytes(5).toString('hex')}`;
// A prefix per test: stats and keys are the test's own, so each test runs alone or in any order.
let prefix = base;
let tests = 0;
let raw: Redis;
const opened: Cache[] = [];

function open(extra: Parameters<typeof openCache>[1] = {}): Cache {
  const c = openCache(url, { prefix, ...extra });
  opened.push(c);
  return c;
}

async function keysUnder(pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return [...new Set(out)].sort();
}

async function counter(result: 'hit' | 'miss'): Promise<number> {
  const m = await cacheRequestsTotal.get();
  return m.values.find((v) => v.labels.result === result)?.value ?? 0;
}

beforeAll(async () => {
  raw = new Redis(url, { lazyConnect: true });
  await raw.connect();
});

beforeEach(() => {
  prefix = `${base}-${++tests}`;
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  const keys = await keysUnder(`${base}-*`);
  if (keys.length) await raw.del(...keys);
  await raw.quit();
});

describe('keys', () => {
  it('are versioned, per user and kind, with encoded parts', () => {
    const c = open();
    expect(c.key(42, 'latest')).toBe(`${prefix}:v1:user:42:latest`);
    expect(c.key(42, 'daily', 'step_count', '7d', 'Europe/Berlin', '2025-06-15')).toBe(
      `${prefix}:v1:user:42:daily:step_count:7d:Europe%2FBerlin:2025-06-15`,
    );
    // No ':' or glob character survives in a part.
    expect(c.key(1, 'daily', 'a:b*c?[d]')).toBe(`${prefix}:v1:user:1:daily:a%3Ab%2Ac%3F%5Bd%5D`);
    expect(c.ttls).toEqual({ latest: 600, daily: 3600, workouts: 1800 });
    expect(open({ ttls: { daily: 5 } }).ttls).toEqual({ ...DEFAULT_TTLS, daily: 5 });
  });

  it('rejects a malformed URL with a one-line config error', () => {
    expect(() => openCache('localhost:6379', { prefix })).toThrow(ConfigError);
    expect(() => openCache('http://localhost:6379', { prefix })).toThrow(/redis:\/\//);
  });
});

describe('getOrLoad on real Redis', () => {
  it('misses, then hits without calling the loader, with the TTL of the kind; counts in Redis and Prometheus', async () => {
    const c = open();
    const key = c.key(7, 'daily', 'step_count', '7d', 'UTC', '2025-06-15');
    const loader = vi.fn(async () => ({ rows: [{ day: '2025-06-15', sum: 1234.5 }] }));
    const [hits0, misses0] = [await counter('hit'), await counter('miss')];

    expect(await c.lookup(key, c.ttls.daily, loader)).toEqual({ value: { rows: [{ day: '2025-06-15', sum: 1234.5 }] }, source: 'miss' });
    expect(await c.lookup(key, c.ttls.daily, loader)).toEqual({ value: { rows: [{ day: '2025-06-15', sum: 1234.5 }] }, source: 'hit' });
    expect(await c.getOrLoad(key, c.ttls.daily, loader)).toEqual({ rows: [{ day: '2025-06-15', sum: 1234.5 }] });
    expect(loader).toHaveBeenCalledTimes(1);

    const ttl = await raw.ttl(key);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect(await raw.hgetall(`${prefix}:v1:stats`)).toMatchObject({ hits: '2', misses: '1' });
    expect(await counter('hit')).toBe(hits0 + 2);
    expect(await counter('miss')).toBe(misses0 + 1);
  });

  it('stats are shared across cache instances (processes) and count keys by kind with their memory', async () => {
    const a = open();
    const latest = a.key(8, 'latest');
    const workouts = a.key(8, 'workouts', 10);
    const daily = a.key(8, 'daily', 'step_count', '7d', 'UTC', '2025-06-15');
    for (const k of [latest, workouts, daily, latest]) await a.getOrLoad(k, 60, async () => [{ metric: 'x', value: 1 }]);
    const b = open();
    for (const k of [workouts, daily, daily]) await b.getOrLoad(k, 60, async () => []);
    const s = await open().stats();
    expect(s).toMatchObject({ enabled: true, available: true, hits: 4, misses: 3, keys: 3 });
    expect(s.hitRatio).toBeCloseTo(4 / 7);
    expect(s.keysByKind).toEqual({ latest: 1, daily: 1, workouts: 1 });
    expect(s.memoryBytes).toBeGreaterThan(0);
  });
});

describe('invalidateUser', () => {
  async function seed(c: Cache, userId: number): Promise<void> {
    for (const k of [
      c.key(userId, 'latest'),
      c.key(userId, 'daily', 'step_count', '7d', 'UTC', '2025-06-15'),
      c.key(userId, 'daily', 'step_count', '30d', 'UTC', '2025-06-15'),
      c.key(userId, 'daily', 'step_count_2', '7d', 'UTC', '2025-06-15'),
      c.key(userId, 'daily', 'heart_rate', '7d', 'UTC', '2025-06-15'),
      c.key(userId, 'workouts', 10),
    ]) {
      await c.fill(k, 60, async () => ({ k }));
    }
  }

  it("deletes only the user's keys of the given metrics plus latest, and workouts only when asked", async () => {
    const c = open();
    await seed(c, 100);
    await seed(c, 101);
    expect(await c.invalidateUser(100, ['step_count'])).toBe(3);
    expect(await keysUnder(`${prefix}:v1:user:100:*`)).toEqual([
      c.key(100, 'daily', 'heart_rate', '7d', 'UTC', '2025-06-15'),
      c.key(100, 'daily', 'step_count_2', '7d', 'UTC', '2025-06-15'),
      c.key(100, 'workouts', 10),
    ]);
    expect(await keysUnder(`${prefix}:v1:user:101:*`)).toHaveLength(6);

    expect(await c.invalidateUser(100, [], { workouts: true })).toBe(1);
    expect(await keysUnder(`${prefix}:v1:user:100:*`)).toHaveLength(2);
    expect(await c.invalidateUser(100)).toBe(2);
    expect(await keysUnder(`${prefix}:v1:user:100:*`)).toEqual([]);
    expect(await keysUnder(`${prefix}:v1:user:101:*`)).toHaveLength(6);

    expect(await c.clear(101)).toBe(6);
    expect(await keysUnder(`${prefix}:v1:user:101:*`)).toEqual([]);
  });

  it('a value loaded before an invalidation is not written after it', async () => {
    const c = open();
    const key = c.key(102, 'daily', 'step_count', '7d', 'UTC', '2025-06-15');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const loading = new Promise<void>((r) => (started = r));
    const pending = c.lookup(key, 60, async () => {
      started();
      await gate;
      return 'old';
    });
    await loading;
    await c.invalidateUser(102, ['step_count']);
    release();
    expect(await pending).toEqual({ value: 'old', source: 'miss' });
    expect(await raw.exists(key)).toBe(0);
    // With no invalidation in between, the next load is stored.
    expect((await c.lookup(key, 60, async () => 'new')).source).toBe('miss');
    expect(await raw.get(key)).toBe('"new"');
  });
});

describe('without a usable Redis', () => {
  it('no URL: disabled, with a notice, loads every time', async () => {
    vi.stubEnv('REDIS_URL', '');
    try {
      for (const c of [openCache(undefined, { prefix }), openCache('', { prefix })]) {
        expect(c.enabled).toBe(false);
        expect(c.notice).toBe(DISABLED_NOTICE);
        expect(c.notice).toMatch(/REDIS_URL/);
        const loader = vi.fn(async () => 5);
        expect(await c.lookup(c.key(1, 'latest'), 60, loader)).toEqual({ value: 5, source: 'off' });
        expect(await c.getOrLoad(c.key(1, 'latest'), 60, loader)).toBe(5);
        expect(loader).toHaveBeenCalledTimes(2);
        expect(await c.stats()).toMatchObject({ enabled: false, keys: 0, hitRatio: null });
        expect(await c.invalidateUser(1)).toBe(0);
        await c.close();
      }
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('unreachable Redis: opens without throwing, reads miss, writes do nothing, one warning, no hang', async () => {
    const warnings: string[] = [];
    const c = openCache('redis://127.0.0.1:1', { prefix, warn: (m) => warnings.push(m) });
    expect(c.enabled).toBe(true);
    const t0 = Date.now();
    const loader = vi.fn(async () => 'from-db');
    for (let i = 0; i < 3; i++) {
      expect(await c.lookup(c.key(1, 'latest'), 60, loader)).toEqual({ value: 'from-db', source: 'off' });
    }
    expect(loader).toHaveBeenCalledTimes(3);
    expect(await c.available()).toBe(false);
    expect(await c.fill(c.key(1, 'latest'), 60, loader)).toBe(false);
    expect(await c.invalidateUser(1, ['step_count'])).toBe(0);
    expect(await c.stats()).toMatchObject({ enabled: true, available: false, keys: 0 });
    await c.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cache unavailable \(redis:\/\/127\.0\.0\.1:1.*ECONNREFUSED/);
  });
});
