/**
 * Checked-out connections that survive their server going away. A pooled client emits 'error'
 * when its connection breaks (PostgreSQL stopped, network cut); while it is checked out nobody
 * else listens, and an 'error' event without a listener ends the Node process. Every checkout
 * goes through `withClient`, which listens for the whole checkout and destroys a broken client
 * instead of returning it to the pool.
 */
import type pg from 'pg';
import { isDatabaseUnavailable } from './unavailable.js';

/** Runs `fn` with a client of `pool`; the client is released (destroyed when broken) after. */
export async function withClient<T>(pool: pg.Pool, fn: (c: pg.PoolClient, markBroken: (e: Error) => void) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | null = null;
  const markBroken = (e: Error) => {
    broken ??= e;
  };
  // The query in flight fails on its own; this only keeps the event from crashing the process.
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    return await fn(client, markBroken);
  } catch (err) {
    if (isConnectionError(err)) broken ??= err as Error;
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken ?? undefined);
  }
}

/** `fn` inside BEGIN ... COMMIT on one client; rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client, markBroken) => {
    await client.query('BEGIN');
    try {
      const r = await fn(client);
      await client.query('COMMIT');
      return r;
    } catch (err) {
      // A client that cannot even roll back is broken: withClient destroys it.
      await client.query('ROLLBACK').catch(markBroken);
      throw err;
    }
  });
}

/**
 * "The database cannot be reached right now" (db/unavailable.ts), as seen mid-run: also a
 * database dropped under us (3D000) and the messages pg gives a client that was closed or a
 * server starting up or shutting down. Worth a retry, and the answer to give (503, exit code)
 * when retries run out.
 */
export function isConnectionError(err: unknown): boolean {
  if (isDatabaseUnavailable(err) || (err as { code?: string } | null)?.code === '3D000') return true;
  return /Client was closed and is not queryable|the database system is (starting up|shutting down)/i.test((err as { message?: string } | null)?.message ?? '');
}

/**
 * `fn`, tried again after a growing, jittered pause (0.2 s doubling to 5 s, about 6 s over five
 * retries) while it fails with an error `transient` accepts: a restarting server or a cut
 * connection gets time to come back; the last error is thrown when it does not.
 */
export async function withRetry<T>(fn: () => Promise<T>, maxRetries = 5, transient: (err: unknown) => boolean = isConnectionError): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!transient(err) || attempt >= maxRetries) throw err;
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5_000) * (0.5 + Math.random())));
    }
  }
}
