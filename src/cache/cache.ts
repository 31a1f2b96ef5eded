/**
 * The summary cache (ioredis). Optional: without a Redis URL the cache is a no-op that says how
 * to turn it on, and a Redis that is down makes reads miss and writes do nothing (one warning per
 * process), so every command keeps working from PostgreSQL alone.
 *
 * Key layout (all under one prefix, default "healthexport", or $HEALTHEXPORT_CACHE_PREFIX):
 *
 *   <prefix>:v1:user:<id>:latest                              latest value per metric
 *   <prefix>:v1:user:<id>:daily:<metric>:<N>d:<tz>:<lastDay>  daily aggregates, last N days
 *   <prefix>:v1:user:<id>:workouts:<limit>                    recent workouts
 *   <prefix>:v1:stats                                         hash: hits, misses (all processes)
 *   <prefix>:v1:epoch:user:<id>                               invalidation counter (see below)
 *
 * "v1" is the schema version of the cached values: change the shape of a value and bump
 * CACHE_SCHEMA_VERSION, and every old key is simply never read again (they expire by TTL).
 * Key parts are percent-encoded (anything outside [A-Za-z0-9_.-]), so a metric or zone name
 * cannot contain ':' or a glob character.
 *
 * Invalidation walks the user's keys with SCAN MATCH <prefix>:v1:user:<id>:* (never KEYS) and
 * UNLINKs what it selects. Chosen over a per-user index set because it needs no bookkeeping that
 * can go wrong: an index set that Redis evicts under memory pressure (or that misses a write)
 * silently leaves stale values behind, while a scan always sees every key. The cost is a pass
 * over the keyspace of this Redis database per import (COUNT 1000 per call: ~100 round trips
 * for 100k keys), which is small next to an import. (Redis Cluster would need a scan per node.)
 *
 * A reader that loaded from PostgreSQL before an import committed must not write its old value
 * after that import's invalidation. So every invalidation first INCRs the user's epoch; a reader
 * fetches the epoch together with its GET, and writes its value with a script that only SETs if
 * the epoch is unchanged. An invalidation anywhere between the reader's GET and its SET wins.
 */
import type { Redis } from 'ioredis';
import { ConfigError, errorMessage } from '../errors.js';
import { recordCache, recordError } from '../metrics/registry.js';
import { redactUrl } from '../db/connection.js';

export const CACHE_SCHEMA_VERSION = 1;

export const CACHE_KINDS = ['latest', 'daily', 'workouts'] as const;
export type CacheKind = (typeof CACHE_KINDS)[number];

/** Seconds. Latest values change with every import; a day's aggregates and workouts less often. */
export const DEFAULT_TTLS: Readonly<Record<CacheKind, number>> = { latest: 600, daily: 3600, workouts: 1800 };

/** How a value was served: from Redis, loaded and cached, or loaded with no usable cache. */
export type CacheSource = 'hit' | 'miss' | 'off';

export interface CacheOptions {
  /** Namespace of every key (default $HEALTHEXPORT_CACHE_PREFIX or "healthexport"). */
  prefix?: string;
  ttls?: Partial<Record<CacheKind, number>>;
  /** Give up connecting after this long (default 1000 ms). */
  connectTimeoutMs?: number;
  /** Fail a command that gets no reply within this long (default 2000 ms). */
  commandTimeoutMs?: number;
  /**
   * Where the single "Redis unavailable" warning goes (default: stderr); `cause` is the URL
   * (password hidden) and the error.
   */
  warn?: (message: string, cause: string) => void;
}

export interface CacheStats {
  enabled: boolean;
  /** Redis answered. */
  available: boolean;
  hits: number;
  misses: number;
  /** hits / (hits + misses); null before the first lookup. */
  hitRatio: number | null;
  keys: number;
  keysByKind: Record<CacheKind, number>;
  /** MEMORY USAGE summed over the cached values (not the whole Redis). */
  memoryBytes?: number;
  notice?: string;
}

interface CacheApi {
  readonly prefix: string;
  readonly ttls: Readonly<Record<CacheKind, number>>;
  key(userId: number, kind: CacheKind, ...params: (string | number)[]): string;
  /** Connects if needed; false when disabled or Redis does not answer. Never throws. */
  available(): Promise<boolean>;
  /** The cached value, or the loader's (then cached for ttlS seconds); loader errors propagate. */
  lookup<T>(key: string, ttlS: number, loader: () => Promise<T>): Promise<{ value: T; source: CacheSource }>;
  getOrLoad<T>(key: string, ttlS: number, loader: () => Promise<T>): Promise<T>;
  /** Loads and stores unconditionally (warming); true if the value was written. */
  fill<T>(key: string, ttlS: number, loader: () => Promise<T>): Promise<boolean>;
  /**
   * Deletes one user's keys: all of them, or with `metrics` only the daily keys of those metrics
   * plus `latest` (when any metric is given) and `workouts` (when opts.workouts). Returns how
   * many keys were deleted.
   */
  invalidateUser(userId: number, metrics?: readonly string[], opts?: { workouts?: boolean }): Promise<number>;
  /** Deletes the cached values of one user, or of every user under this prefix. */
  clear(userId?: number): Promise<number>;
  stats(): Promise<CacheStats>;
  close(): Promise<void>;
}

export interface EnabledCache extends CacheApi {
  readonly enabled: true;
  readonly notice: null;
  /** The Redis URL with any password hidden. */
  readonly description: string;
}

export interface DisabledCache extends CacheApi {
  readonly enabled: false;
  /** Why the cache is off and how to turn it on (print it once). */
  readonly notice: string;
}

export type Cache = EnabledCache | DisabledCache;

export const DISABLED_NOTICE =
  'cache off: REDIS_URL is not set, summaries are read from PostgreSQL every time ' +
  '(set REDIS_URL or pass --redis-url redis://127.0.0.1:6379 to enable it)';

/** Percent-encodes anything outside [A-Za-z0-9_.-] (so no ':' and no glob characters remain). */
export function encodeKeyPart(s: string | number): string {
  return encodeURIComponent(String(s)).replace(/[!'()*~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => '\\' + c);
}

/** Stats of a cache that cannot say anything (off, or Redis unreachable). */
function noStats(enabled: boolean): CacheStats {
  return { enabled, available: false, hits: 0, misses: 0, hitRatio: null, keys: 0, keysByKind: { latest: 0, daily: 0, workouts: 0 } };
}

function resolvePrefix(opts: CacheOptions): string {
  const prefix = opts.prefix ?? (process.env.HEALTHEXPORT_CACHE_PREFIX || 'healthexport');
  if (!prefix || /\s/.test(prefix)) throw new ConfigError(`cache prefix must be a non-empty word, got "${prefix}"`);
  return prefix;
}

function resolveTtls(opts: CacheOptions): Record<CacheKind, number> {
  const ttls = { ...DEFAULT_TTLS, ...opts.ttls };
  for (const k of CACHE_KINDS) {
    if (!Number.isInteger(ttls[k]) || ttls[k] < 1) throw new ConfigError(`cache TTL for ${k} must be a whole number of seconds >= 1`);
  }
  return ttls;
}

/**
 * Opens the cache for `url` (default $REDIS_URL). No URL (or an empty one): a disabled cache.
 * Never connects here and never throws for an unreachable server (only for a malformed URL):
 * the connection is made on first use, and failure then degrades to "no cache".
 */
export function openCache(url: string | undefined = process.env.REDIS_URL, opts: CacheOptions = {}): Cache {
  const prefix = resolvePrefix(opts);
  const ttls = resolveTtls(opts);
  if (!url) return new NoCache(prefix, ttls);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('REDIS_URL is not a valid URL (expected redis://[:password@]host:6379[/db])');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, not ${u.protocol}//`);
  }
  return new RedisCache(url, prefix, ttls, opts);
}

abstract class BaseCache {
  constructor(
    readonly prefix: string,
    readonly ttls: Readonly<Record<CacheKind, number>>,
  ) {}

  protected get root(): string {
    return `${this.prefix}:v${CACHE_SCHEMA_VERSION}`;
  }

  key(userId: number, kind: CacheKind, ...params: (string | number)[]): string {
    return [`${this.root}:user:${userId}:${kind}`, ...params.map(encodeKeyPart)].join(':');
  }
}

class NoCache extends BaseCache implements DisabledCache {
  readonly enabled = false as const;
  readonly notice = DISABLED_NOTICE;

  async available(): Promise<boolean> {
    return false;
  }
  async lookup<T>(_key: string, _ttlS: number, loader: () => Promise<T>): Promise<{ value: T; source: CacheSource }> {
    return { value: await loader(), source: 'off' };
  }
  async getOrLoad<T>(_key: string, _ttlS: number, loader: () => Promise<T>): Promise<T> {
    return loader();
  }
  async fill(): Promise<boolean> {
    return false;
  }
  async invalidateUser(): Promise<number> {
    return 0;
  }
  async clear(): Promise<number> {
    return 0;
  }
  async stats(): Promise<CacheStats> {
    return { ...noStats(false), notice: this.notice };
  }
  async close(): Promise<void> {}
}

/** GET the value, count the hit or miss, and return the user's epoch with it. */
const READ_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v then redis.call('HINCRBY', KEYS[2], 'hits', 1) else redis.call('HINCRBY', KEYS[2], 'misses', 1) end
return {v, redis.call('GET', KEYS[3])}`;

/** SET the value only if no invalidation happened since the read (ARGV[1] = epoch then, '' = none). */
const WRITE_SCRIPT = `
local e = redis.call('GET', KEYS[2]) or ''
if e ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

/** An epoch outlives any load by far; it expires so users who left do not keep a key forever. */
const EPOCH_TTL_S = 86_400;
const SCAN_COUNT = 1000;

type ScriptedRedis = Redis & {
  heRead(key: string, statsKey: string, epochKey: string): Promise<[string | null, string | null]>;
  heWrite(key: string, epochKey: string, epoch: string, value: string, ttlS: number): Promise<number>;
};

class RedisCache extends BaseCache implements EnabledCache {
  readonly enabled = true as const;
  readonly notice = null;
  readonly description: string;
  /** Made on first use: ioredis is loaded only then (every command starts ~0.1 s sooner without it). */
  private made: Promise<ScriptedRedis> | null = null;
  private connecting: Promise<boolean> | null = null;
  private warned = false;
  private readonly warnFn: (m: string, cause: string) => void;

  constructor(
    private readonly url: string,
    prefix: string,
    ttls: Record<CacheKind, number>,
    private readonly opts: CacheOptions,
  ) {
    super(prefix, ttls);
    this.description = redactUrl(url);
    this.warnFn = opts.warn ?? ((m) => process.stderr.write(`healthexport: ${m}\n`));
  }

  private client(): Promise<ScriptedRedis> {
    return (this.made ??= import('ioredis').then(({ Redis }) => {
      const redis = new Redis(this.url, {
        lazyConnect: true,
        connectTimeout: this.opts.connectTimeoutMs ?? 1000,
        commandTimeout: this.opts.commandTimeoutMs ?? 2000,
        // Fail fast instead of queueing while disconnected, and do not reconnect in the
        // background: a CLI run is short, and the next run connects afresh.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
      });
      redis.defineCommand('heRead', { numberOfKeys: 3, lua: READ_SCRIPT });
      redis.defineCommand('heWrite', { numberOfKeys: 2, lua: WRITE_SCRIPT });
      redis.on('error', (err) => this.fail(err));
      return redis as ScriptedRedis;
    }));
  }

  private fail(err: unknown): void {
    recordError('cache');
    if (this.warned) return;
    this.warned = true;
    const cause = `${this.description}: ${errorMessage(err)}`;
    this.warnFn(`cache unavailable (${cause}); reading from PostgreSQL without it`, cause);
  }

  async available(): Promise<boolean> {
    return (await this.ready()) !== null;
  }

  /** The client once connected; null when Redis does not answer. */
  private async ready(): Promise<ScriptedRedis | null> {
    const redis = await this.client();
    if (redis.status === 'ready') return redis;
    if (redis.status === 'wait' && !this.connecting) {
      this.connecting = redis.connect().then(
        () => true,
        (err) => {
          this.fail(err);
          return false;
        },
      );
    }
    if (this.connecting) await this.connecting;
    return (redis.status as string) === 'ready' ? redis : null;
  }

  /** Runs fn if Redis is usable; any failure is warned about once and yields the fallback. */
  private async safe<T>(fallback: T, fn: (r: ScriptedRedis) => Promise<T>): Promise<T> {
    const redis = await this.ready();
    if (redis === null) return fallback;
    try {
      return await fn(redis);
    } catch (err) {
      this.fail(err);
      return fallback;
    }
  }

  private get statsKey(): string {
    return `${this.root}:stats`;
  }

  private epochKey(key: string): string {
    const m = /:user:(\d+):/.exec(key.slice(this.root.length));
    return m ? `${this.root}:epoch:user:${m[1]}` : `${this.root}:epoch:global`;
  }

  private userPattern(userId?: number): string {
    return `${globEscape(this.root)}:user:${userId ?? '*'}:*`;
  }

  async lookup<T>(key: string, ttlS: number, loader: () => Promise<T>): Promise<{ value: T; source: CacheSource }> {
    const epochKey = this.epochKey(key);
    const read = await this.safe(null, (r) => r.heRead(key, this.statsKey, epochKey));
    if (read && read[0] !== null) {
      try {
        const value = JSON.parse(read[0]) as T;
        recordCache('hit');
        return { value, source: 'hit' };
      } catch {
        // Not ours or corrupt: load and overwrite it.
      }
    }
    recordCache('miss');
    const value = await loader();
    if (!read) return { value, source: 'off' };
    await this.safe(0, (r) => r.heWrite(key, epochKey, read[1] ?? '', JSON.stringify(value), ttlS));
    return { value, source: 'miss' };
  }

  async getOrLoad<T>(key: string, ttlS: number, loader: () => Promise<T>): Promise<T> {
    return (await this.lookup(key, ttlS, loader)).value;
  }

  async fill<T>(key: string, ttlS: number, loader: () => Promise<T>): Promise<boolean> {
    const epochKey = this.epochKey(key);
    const epoch = await this.safe(undefined as string | null | undefined, (r) => r.get(epochKey));
    if (epoch === undefined) return false;
    const value = await loader();
    return (await this.safe(0, (r) => r.heWrite(key, epochKey, epoch ?? '', JSON.stringify(value), ttlS))) === 1;
  }

  private async scanDelete(redis: ScriptedRedis, pattern: string, select: (key: string) => boolean = () => true): Promise<number> {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      const chosen = keys.filter(select);
      if (chosen.length) deleted += await redis.unlink(...chosen);
    } while (cursor !== '0');
    return deleted;
  }

  async invalidateUser(userId: number, metrics?: readonly string[], opts: { workouts?: boolean } = {}): Promise<number> {
    return this.safe(0, async (r) => {
      const epochKey = `${this.root}:epoch:user:${userId}`;
      await r.multi().incr(epochKey).expire(epochKey, EPOCH_TTL_S).exec();
      const base = `${this.root}:user:${userId}:`;
      if (!metrics) return this.scanDelete(r, this.userPattern(userId));
      const daily = new Set(metrics.map((m) => `${base}daily:${encodeKeyPart(m)}:`));
      return this.scanDelete(r, this.userPattern(userId), (k) => {
        const rest = k.slice(base.length);
        if (rest === 'latest') return metrics.length > 0;
        if (rest.startsWith('workouts:')) return !!opts.workouts;
        if (rest.startsWith('daily:')) return daily.has(k.slice(0, k.indexOf(':', base.length + 'daily:'.length) + 1));
        return false;
      });
    });
  }

  async clear(userId?: number): Promise<number> {
    return this.safe(0, async (r) => {
      if (userId !== undefined) {
        const epochKey = `${this.root}:epoch:user:${userId}`;
        await r.multi().incr(epochKey).expire(epochKey, EPOCH_TTL_S).exec();
      }
      return this.scanDelete(r, this.userPattern(userId));
    });
  }

  async stats(): Promise<CacheStats> {
    return this.safe(noStats(true), async (r) => {
      const h = await r.hgetall(this.statsKey);
      const hits = Number(h.hits ?? 0);
      const misses = Number(h.misses ?? 0);
      const seen = new Set<string>();
      const byKind: Record<CacheKind, number> = { latest: 0, daily: 0, workouts: 0 };
      let memoryBytes = 0;
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', this.userPattern(), 'COUNT', SCAN_COUNT);
        cursor = next;
        const fresh = keys.filter((k) => !seen.has(k));
        if (!fresh.length) continue;
        const p = r.pipeline();
        for (const k of fresh) {
          seen.add(k);
          const kind = /:user:\d+:([a-z]+)/.exec(k.slice(this.root.length))?.[1] as CacheKind | undefined;
          if (kind && kind in byKind) byKind[kind]++;
          p.call('MEMORY', 'USAGE', k);
        }
        for (const [err, n] of (await p.exec()) ?? []) if (!err && typeof n === 'number') memoryBytes += n;
      } while (cursor !== '0');
      return {
        enabled: true,
        available: true,
        hits,
        misses,
        hitRatio: hits + misses > 0 ? hits / (hits + misses) : null,
        keys: seen.size,
        keysByKind: byKind,
        memoryBytes,
      };
    });
  }

  async close(): Promise<void> {
    const redis = this.made ? await this.made : null;
    if (redis === null) return;
    if (redis.status === 'ready') {
      try {
        await redis.quit();
        return;
      } catch {
        // fall through to a hard disconnect
      }
    }
    redis.disconnect();
  }
}
