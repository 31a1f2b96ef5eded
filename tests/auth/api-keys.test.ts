import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearApiKeyCache, createApiKey, DEFAULT_SCRYPT, generateApiKey, hashApiKey, listApiKeys, parseApiKey, revokeApiKey, verifyApiKey, verifyKeyHash} from '../../src/auth/api-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createUser, listUsers } from '../../src/db/users.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: true });
  await createUser(db.pool, 'jane');
  await createUser(db.pool, 'john');
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => clearApiKeyCache());

describe('key format and hashing', () => {
  it('generates he_<12 hex>_<43 base64url> keys with distinct prefixes', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(/^he_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(a.key.startsWith(`he_${a.prefix}_`)).toBe(true);
    expect(a.prefix).not.toBe(b.prefix);
    expect(parseApiKey(a.key)).toEqual({ prefix: a.prefix });
    expect(parseApiKey('he_short_x')).toBeNull();
    expect(parseApiKey(a.key + 'x')).toBeNull();
  });

  it('stores scrypt$N$r$p$salt$hash with a random salt, and verifies only the right key', async () => {
    const { key } = generateApiKey();
    const h1 = await hashApiKey(key);
    const h2 = await hashApiKey(key);
    expect(h1).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(h1).not.toBe(h2);
    expect(h1).not.toContain(key.slice(16));
    expect(await verifyKeyHash(key, h1)).toBe(true);
    expect(await verifyKeyHash(key, h2)).toBe(true);
    expect(await verifyKeyHash(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'), h1)).toBe(false);
    expect(await verifyKeyHash(key, 'bcrypt$nonsense')).toBe(false);
    expect(DEFAULT_SCRYPT.N).toBeGreaterThanOrEqual(1 << 14);
  });
});

describe('users and keys in the database', () => {
  it('creates a user once', async () => {
    const u = await createUser(db.pool, 'kim');
    expect(u.name).toBe('kim');
    await expect(createUser(db.pool, 'kim')).rejects.toThrow(/already exists/);
    await expect(createUser(db.pool, '  ')).rejects.toThrow(/empty/);
    expect((await listUsers(db.pool)).map((x) => x.name)).toEqual(['jane', 'john', 'kim']);
  });

  it('creates a key whose stored hash is not the key, found by its prefix', async () => {
    const k = await createApiKey(db.pool, 'jane', 'iphone');
    const { rows } = await db.pool.query('SELECT prefix, key_hash, label, user_id FROM api_keys WHERE id = $1', [k.id]);
    expect(rows[0].prefix).toBe(k.prefix);
    expect(k.key).toContain(k.prefix);
    expect(rows[0].key_hash).not.toContain(k.key);
    expect(rows[0].key_hash.startsWith('scrypt$')).toBe(true);
    expect(rows[0].label).toBe('iphone');
    const { rows: byPrefix } = await db.pool.query('SELECT id FROM api_keys WHERE prefix = $1', [parseApiKey(k.key)!.prefix]);
    expect(byPrefix.map((r) => Number(r.id))).toEqual([k.id]);
    await expect(createApiKey(db.pool, 'nobody')).rejects.toThrow(/no user named "nobody"/);
  });

  it('verifies the right key, and not a wrong, malformed or other user\'s key', async () => {
    const jane = await createApiKey(db.pool, 'jane');
    const john = await createApiKey(db.pool, 'john');
    const v = await verifyApiKey(db.pool, jane.key);
    expect(v).toEqual({ userId: jane.userId, userName: 'jane', keyId: jane.id });
    expect((await verifyApiKey(db.pool, john.key))?.userName).toBe('john');
    // Right prefix, wrong secret.
    const wrong = jane.key.slice(0, -3) + (jane.key.endsWith('abc') ? 'xyz' : 'abc');
    expect(await verifyApiKey(db.pool, wrong)).toBeNull();
    // John's secret behind Jane's prefix.
    expect(await verifyApiKey(db.pool, `he_${jane.prefix}_${john.key.slice(16)}`)).toBeNull();
    expect(await verifyApiKey(db.pool, 'he_ffffffffffff_' + 'a'.repeat(43))).toBeNull();
    expect(await verifyApiKey(db.pool, 'nonsense')).toBeNull();
    expect(await verifyApiKey(db.pool, '')).toBeNull();
  });

  it('records last_used_at (at most once a minute)', async () => {
    const k = await createApiKey(db.pool, 'john');
    await verifyApiKey(db.pool, k.key, { cacheTtlMs: 0 });
    const first = (await db.pool.query('SELECT last_used_at FROM api_keys WHERE id = $1', [k.id])).rows[0].last_used_at;
    expect(first).toBeInstanceOf(Date);
    await verifyApiKey(db.pool, k.key, { cacheTtlMs: 0 });
    const second = (await db.pool.query('SELECT last_used_at FROM api_keys WHERE id = $1', [k.id])).rows[0].last_used_at;
    expect(second.getTime()).toBe(first.getTime());
  });

  it('refuses a revoked key at once in this process, and within the cache TTL elsewhere', async () => {
    const k = await createApiKey(db.pool, 'jane');
    expect(await verifyApiKey(db.pool, k.key)).not.toBeNull();
    expect(await revokeApiKey(db.pool, k.id)).toBe(true);
    expect(await revokeApiKey(db.pool, k.id)).toBe(false);
    expect(await verifyApiKey(db.pool, k.key)).toBeNull();

    // Revoked by another process (plain SQL): the cached verification holds until it expires.
    const k2 = await createApiKey(db.pool, 'jane');
    const t0 = Date.now();
    expect(await verifyApiKey(db.pool, k2.key, { now: t0 })).not.toBeNull();
    await db.pool.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [k2.id]);
    expect(await verifyApiKey(db.pool, k2.key, { now: t0 + 1000 })).not.toBeNull();
    expect(await verifyApiKey(db.pool, k2.key, { now: t0 + 61_000 })).toBeNull();
  });

  it('lists keys without their hashes', async () => {
    await createApiKey(db.pool, 'john', 'watch');
    const revoked = await createApiKey(db.pool, 'jane');
    await revokeApiKey(db.pool, revoked.id);
    const rows = await listApiKeys(db.pool, 'john');
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.userName).toBe('john');
      expect(Object.keys(r)).not.toContain('keyHash');
      expect(r.prefix).toMatch(/^[0-9a-f]{12}$/);
    }
    const all = await listApiKeys(db.pool);
    expect(new Set(all.map((r) => r.userName))).toEqual(new Set(['jane', 'john']));
    expect(all.find((r) => r.id === revoked.id)?.revokedAt).toBeInstanceOf(Date);
  });
});
