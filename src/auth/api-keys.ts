/**
 * Users and their API keys (for `serve`).
 *
 * A key looks like `he_<prefix>_<secret>`:
 *   - prefix: 12 random hex characters (48 bits). Not secret: it is stored in clear and indexed,
 *     so the row to check is found without knowing the user, and `keys list` can show it.
 *   - secret: 32 random bytes, base64url (43 characters, may contain `_` and `-`).
 * The key is shown once, when created. Only a slow hash of the whole key is stored:
 * `scrypt$N$r$p$<salt base64>$<hash base64>` (node:crypto scrypt, random 16-byte salt, 32-byte
 * output). The parameters travel with the hash, so stronger ones can be introduced later without
 * invalidating existing keys.
 *
 * Verifying costs a scrypt (~16 MiB, tens of ms of CPU on the libuv thread pool) by design. To keep
 * a flood of requests from turning into a flood of scrypts, successful verifications are cached in
 * memory for a short time (default 60 s), keyed by the SHA-256 of the presented key (so the map
 * never holds a usable key; a 256-bit random secret's SHA-256 is as good as a slow hash for a
 * cache that lives for a minute). The price: a key revoked by another process (`keys revoke` on the
 * command line while `serve` runs) is still accepted by `serve` for at most that long;
 * revokeApiKey() called in this process drops the cached entries at once. Wrong keys are not
 * cached: an unknown prefix costs one indexed lookup and no scrypt, and a wrong secret behind a
 * real prefix (which means someone already knows part of a real key) costs a scrypt.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type pg from 'pg';
import { ConfigError } from '../errors.js';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** N = 2^14, r = 8, p = 1: the parameters recommended for interactive logins (RFC 7914 §2). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 1 << 14, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const SECRET_BYTES = 32;
const KEY_RE = /^he_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

function scrypt(password: string, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; leave room above it (Node's default maxmem is 32 MiB).
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + (1 << 20) };
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash` for `key`, with a fresh random salt. */
export async function hashApiKey(key: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scrypt(key, salt, HASH_BYTES, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Whether `key` matches a stored `scrypt$...` hash (constant-time comparison). */
export async function verifyKeyHash(key: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (!expected.length) return false;
  const actual = await scrypt(key, salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}

/** A fresh key and its prefix (nothing stored). */
export function generateApiKey(): { key: string; prefix: string } {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { key: `he_${prefix}_${secret}`, prefix };
}

/** The prefix of a well-formed key, or null. */
export function parseApiKey(key: string): { prefix: string } | null {
  const m = KEY_RE.exec(key);
  return m ? { prefix: m[1] } : null;
}

// ---- keys -------------------------------------------------------------------------------------

export interface CreatedKey {
  /** The full key: show it once, it cannot be recovered. */
  key: string;
  prefix: string;
  id: number;
  userId: number;
}

export interface ApiKeyRow {
  id: number;
  userId: number;
  userName: string;
  prefix: string;
  label: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface VerifiedKey {
  userId: number;
  userName: string;
  keyId: number;
}

export async function createApiKey(
  pool: pg.Pool,
  userName: string,
  label?: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<CreatedKey> {
  const { rows: users } = await pool.query(`SELECT id FROM users WHERE name = $1`, [userName]);
  if (!users.length) {
    throw new ConfigError(`no user named "${userName}" (create it first: healthexport users create ${JSON.stringify(userName)})`);
  }
  const userId = Number(users[0].id);
  const { key, prefix } = generateApiKey();
  const hash = await hashApiKey(key, params);
  const { rows } = await pool.query(
    `INSERT INTO api_keys (user_id, prefix, key_hash, label) VALUES ($1, $2, $3, $4) RETURNING id`,
    [userId, prefix, hash, label ?? null],
  );
  return { key, prefix, id: Number(rows[0].id), userId };
}

export async function listApiKeys(pool: pg.Pool, userName?: string): Promise<ApiKeyRow[]> {
  const { rows } = await pool.query(
    `SELECT k.id, k.user_id, u.name AS user_name, k.prefix, k.label, k.created_at, k.last_used_at, k.revoked_at
       FROM api_keys k JOIN users u ON u.id = k.user_id
      WHERE $1::text IS NULL OR u.name = $1
      ORDER BY u.name, k.id`,
    [userName ?? null],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    userId: Number(r.user_id),
    userName: r.user_name,
    prefix: r.prefix,
    label: r.label,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}

/** Revoke a key by id. False when no active key has that id. Drops it from this process's cache. */
export async function revokeApiKey(pool: pg.Pool, keyId: number): Promise<boolean> {
  const { rowCount } = await pool.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [keyId]);
  for (const [k, v] of cache) if (v.result.keyId === keyId) cache.delete(k);
  return (rowCount ?? 0) > 0;
}

// ---- verification (with the short-lived cache) -------------------------------------------------

interface CacheEntry {
  result: VerifiedKey;
  expires: number;
}

const cache = new Map<string, CacheEntry>();
const CACHE_MAX = 10_000;
export const DEFAULT_CACHE_TTL_MS = 60_000;

/** Forget every cached verification (tests; or after revoking keys from elsewhere). */
export function clearApiKeyCache(): void {
  cache.clear();
}

function cacheKey(key: string): string {
  return createHash('sha256').update(key).digest('base64');
}

export interface VerifyOptions {
  /** How long a successful verification is trusted without a new scrypt; 0 disables the cache. */
  cacheTtlMs?: number;
  now?: number;
}

/**
 * The user behind a presented key, or null when the key is malformed, unknown, wrong or revoked.
 * Throws only when the database cannot be asked (the caller answers 503).
 * last_used_at is written at most once a minute per key (and per cache lifetime).
 */
export async function verifyApiKey(pool: pg.Pool, presented: string, opts: VerifyOptions = {}): Promise<VerifiedKey | null> {
  const ttl = opts.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
  const now = opts.now ?? Date.now();
  const parsed = parseApiKey(presented);
  if (!parsed) return null;

  const ck = ttl > 0 ? cacheKey(presented) : '';
  if (ttl > 0) {
    const hit = cache.get(ck);
    if (hit && hit.expires > now) return { ...hit.result };
    if (hit) cache.delete(ck);
  }

  const { rows } = await pool.query(
    `SELECT k.id, k.user_id, k.key_hash, u.name AS user_name
       FROM api_keys k JOIN users u ON u.id = k.user_id
      WHERE k.prefix = $1 AND k.revoked_at IS NULL`,
    [parsed.prefix],
  );
  for (const row of rows) {
    if (!(await verifyKeyHash(presented, row.key_hash))) continue;
    const result: VerifiedKey = { userId: Number(row.user_id), userName: row.user_name, keyId: Number(row.id) };
    await pool
      .query(
        `UPDATE api_keys SET last_used_at = now()
          WHERE user_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
        [result.userId, result.keyId],
      )
      .catch(() => {}); // bookkeeping only: never fail a request over it
    if (ttl > 0) {
      if (cache.size >= CACHE_MAX) {
        for (const [k, v] of cache) if (v.expires <= now) cache.delete(k);
        if (cache.size >= CACHE_MAX) cache.clear();
      }
      cache.set(ck, { result, expires: now + ttl });
    }
    return { ...result };
  }
  return null;
}
