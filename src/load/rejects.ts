/** Quarantine: records that could not be stored, with the reason, where they were, and their text. */
import type pg from 'pg';
import { storable } from './copy-text.js';

export interface Reject {
  table: string | null;
  reason: string;
  jsonPath: string | null;
  byteOffset: number | null;
  raw: string | null;
}

/** Raw text beyond this is cut: a reject row must not carry a multi-megabyte workout. */
export const MAX_RAW_CHARS = 64 * 1024;

export async function storeRejects(pool: pg.Pool, userId: number, ingestionId: string, rejects: Reject[]): Promise<void> {
  if (!rejects.length) return;
  await pool.query(
    `INSERT INTO ingestion_rejects (user_id, ingestion_id, target_table, json_path, byte_offset, reason, raw)
     SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[])`,
    [
      userId,
      ingestionId,
      rejects.map((r) => r.table),
      rejects.map((r) => storable(r.jsonPath)),
      rejects.map((r) => r.byteOffset),
      rejects.map((r) => storable(r.reason)),
      rejects.map((r) => storable(r.raw && r.raw.length > MAX_RAW_CHARS ? r.raw.slice(0, MAX_RAW_CHARS) + '…' : r.raw)),
    ],
  );
}

export interface RejectRow {
  ingestionId: string;
  rejectedAt: Date;
  table: string | null;
  jsonPath: string | null;
  byteOffset: number | null;
  reason: string;
  raw: string | null;
}

export async function listRejects(
  pool: pg.Pool,
  opts: { ingestionId?: string; userId?: number; limit?: number },
): Promise<RejectRow[]> {
  const { rows } = await pool.query(
    `SELECT ingestion_id, rejected_at, target_table, json_path, byte_offset, reason, raw FROM ingestion_rejects
      WHERE ($1::uuid IS NULL OR ingestion_id = $1) AND ($2::bigint IS NULL OR user_id = $2)
      ORDER BY rejected_at DESC, id LIMIT $3`,
    [opts.ingestionId ?? null, opts.userId ?? null, opts.limit ?? 100],
  );
  return rows.map((r) => ({
    ingestionId: r.ingestion_id,
    rejectedAt: r.rejected_at,
    table: r.target_table,
    jsonPath: r.json_path,
    byteOffset: r.byte_offset === null ? null : Number(r.byte_offset),
    reason: r.reason,
    raw: r.raw,
  }));
}
