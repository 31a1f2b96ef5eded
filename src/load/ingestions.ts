/** The raw_ingestions row every import run and every REST POST leaves behind. */
import type pg from 'pg';
import { ensureMonths, monthKey } from '../db/partitions.js';
import { storable, storableJson } from './copy-text.js';

export interface IngestionRef {
  id: string;
  receivedAt: Date;
  /** Holds the run's lease (see below) until finishIngestion; null when none could be taken. */
  lease?: pg.Client | null;
}

/**
 * While a run is alive it holds a session advisory lock on its id, on a connection of its own.
 * PostgreSQL releases it when that connection ends, however it ends (process killed, database
 * restarted), so the next run of the user can tell a dead 'running' row from a live one and
 * mark it failed at once, not a day later.
 */
const LEASE_CLASS = 0x68656c65; // "hele"

async function takeLease(pool: pg.Pool, id: string): Promise<pg.Client | null> {
  const { Client } = (await import('pg')).default;
  const client = new Client(pool.options);
  client.on('error', () => {}); // a lost lease connection only means the lease is gone
  try {
    await client.connect();
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LEASE_CLASS, id]);
    return client;
  } catch {
    await client.end().catch(() => {});
    return null;
  }
}

/** Where an ingestion's "as of" instant came from (migration 5 explains what it is for). */
export type AsOfSource = 'option' | 'content' | 'name' | 'mtime' | 'received';

export interface AsOf {
  /** Epoch ms. */
  at: number;
  source: AsOfSource;
}

/** Records a run as 'running'; `asOf` null means "as of now" (the time received). */
export async function startIngestion(
  pool: pg.Pool,
  p: { userId: number; source: string; sourceKind: 'file' | 'stdin' | 'http'; known: Set<string>; asOf?: AsOf | null },
): Promise<IngestionRef & { asOf: AsOf }> {
  const receivedAt = new Date();
  const asOf: AsOf = p.asOf ?? { at: receivedAt.getTime(), source: 'received' };
  await ensureMonths(pool, 'raw_ingestions', [monthKey(receivedAt.getTime())], p.known);
  await markAbandoned(pool, p.userId, receivedAt);
  const { rows } = await pool.query(
    `INSERT INTO raw_ingestions (user_id, received_at, source, source_kind, status, as_of, as_of_source)
     VALUES ($1, $2, $3, $4, 'running', $5, $6) RETURNING id`,
    [p.userId, receivedAt, storable(p.source), p.sourceKind, new Date(asOf.at), asOf.source],
  );
  const id: string = rows[0].id;
  return { id, receivedAt, asOf, lease: await takeLease(pool, id) };
}

/** A later, better "as of" (the input's own export date, read from its content). */
export async function setAsOf(pool: pg.Pool, ref: IngestionRef, userId: number, asOf: AsOf): Promise<void> {
  await pool.query(`UPDATE raw_ingestions SET as_of = $4, as_of_source = $5 WHERE user_id = $1 AND received_at = $2 AND id = $3`, [
    userId, ref.receivedAt, ref.id, new Date(asOf.at), asOf.source,
  ]);
}

/** A run still 'running' after this long was killed: no import takes a day. */
export const ABANDONED_AFTER_MS = 24 * 3600_000;

/**
 * Runs of this user whose process died (killed, machine lost, database gone) stay 'running'
 * otherwise: marked failed here when their lease is free (the process that held it is gone), or
 * after a day whatever the lease says. Their committed batches are kept, and re-running the same
 * input completes them.
 */
export async function markAbandoned(pool: pg.Pool, userId: number, now: Date): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE raw_ingestions SET status = 'failed', finished_at = now(),
            error = coalesce(error, 'abandoned: the run ended without a result (process killed or database lost); its committed batches are kept, and running the same import again finishes the job')
      WHERE user_id = $1 AND status = 'running'
        AND (received_at < $2 OR pg_try_advisory_xact_lock($3, hashtext(id::text)))`,
    [userId, new Date(now.getTime() - ABANDONED_AFTER_MS), LEASE_CLASS],
  );
  return rowCount ?? 0;
}

/** Ends the run's lease (after its row is final, or when it cannot be written). */
export async function releaseLease(ref: IngestionRef): Promise<void> {
  const lease = ref.lease;
  ref.lease = null;
  await lease?.end().catch(() => {});
}

export async function finishIngestion(
  pool: pg.Pool,
  ref: IngestionRef,
  userId: number,
  p: { status: 'ok' | 'partial' | 'failed'; bytes: number; sha256: string | null; counts: unknown; error: string | null },
): Promise<void> {
  await pool.query(
    `UPDATE raw_ingestions SET status = $4, bytes = $5, sha256 = $6, counts = $7, error = $8, finished_at = now()
      WHERE user_id = $1 AND received_at = $2 AND id = $3`,
    [userId, ref.receivedAt, ref.id, p.status, p.bytes, p.sha256, storableJson(p.counts), storable(p.error)],
  );
}
