/**
 * Every query about users, in one place. HAE files do not say whose data they hold, so a user is
 * just a name chosen on the command line (`--user`) or by an API key; every key in the database
 * starts with the user's id (see docs/scale-out.md for why).
 */
import type pg from 'pg';
import { ConfigError, EXIT, UserFacingError } from '../errors.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface User {
  id: number;
  name: string;
}

export interface UserRow extends User {
  createdAt: Date;
  activeKeys: number;
}

/**
 * The id of `name`, creating the user when it is new. Imports call this: the first import for a
 * name is how most people "create" a user.
 * @example const id = await ensureUser(pool, 'jane');
 */
export async function ensureUser(db: Queryable, name: string): Promise<number> {
  const { rows } = await db.query(
    `INSERT INTO users (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
    [name],
  );
  return Number(rows[0].id);
}

/** Creates a user that must not exist yet (`users create`). */
export async function createUser(db: Queryable, name: string): Promise<User> {
  const clean = name.trim();
  if (!clean) throw new ConfigError('a user name must not be empty');
  const { rows } = await db.query(`INSERT INTO users (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id, name`, [clean]);
  if (!rows.length) throw new UserFacingError(`user "${clean}" already exists`, EXIT.usage);
  return { id: Number(rows[0].id), name: rows[0].name };
}

/** The id of `name`, or null when nobody of that name has imported anything yet. */
export async function userIdByName(db: Queryable, name: string): Promise<number | null> {
  const { rows } = await db.query('SELECT id FROM users WHERE name = $1', [name]);
  return rows.length ? Number(rows[0].id) : null;
}

/** Every user by name, with how many API keys each can still use. */
export async function listUsers(db: Queryable): Promise<UserRow[]> {
  const { rows } = await db.query(
    `SELECT u.id, u.name, u.created_at,
            (SELECT count(*) FROM api_keys k WHERE k.user_id = u.id AND k.revoked_at IS NULL)::int AS active_keys
       FROM users u ORDER BY u.name`,
  );
  return rows.map((r) => ({ id: Number(r.id), name: r.name, createdAt: r.created_at, activeKeys: r.active_keys }));
}
