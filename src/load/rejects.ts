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

/**
 * Stores rejects, one row per bad record: the same record (same table, path, byte offset and
 * text; see migration 7's healthexport_reject_key) rejected again, by a re-import or a re-sent
 * upload, moves to this ingestion and counts one more sighting instead of a second row.
 */
export async function storeRejects(pool: pg.Pool, userId: number, ingestionId: string, rejects: Reject[]): Promise<void> {
  if (!rejects.length) return;
  await pool.query(
    `INSERT INTO ingestion_rejects (user_id, ingestion_id, target_table, json_path, byte_offset, reason, raw, record_key)
     SELECT DISTINCT ON (k) $1, $2, t, p, o, reason, raw, k
       FROM (SELECT u.*, healthexport_reject_key(t, p, o, raw) AS k
               FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[]) AS u(t, p, o, reason, raw)) s
     ON CONFLICT (user_id, record_key) DO UPDATE
        SET ingestion_id = EXCLUDED.ingestion_id, rejected_at = EXCLUDED.rejected_at, reason = EXCLUDED.reason,
            times_seen = ingestion_rejects.times_seen + 1`,
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
  /** The input the latest sighting came from (a path as given, `-` for stdin, `http:...` for serve). */
  source: string | null;
  table: string | null;
  jsonPath: string | null;
  byteOffset: number | null;
  reason: string;
  raw: string | null;
  /** Imports that rejected this same record (re-imports count, but store it once). */
  timesSeen: number;
}

export interface RejectFilter {
  ingestionId?: string;
  userId?: number;
  /** The input's name as imported, or its last path component(s): `export.json` finds `/srv/inbox/export.json`. */
  file?: string;
  /** Part of the reason, any case: `latitude`, `out of range`. */
  reason?: string;
  limit?: number;
}

export async function listRejects(pool: pg.Pool, opts: RejectFilter): Promise<RejectRow[]> {
  const { rows } = await pool.query(
    `SELECT r.ingestion_id, r.rejected_at, ri.source, r.target_table, r.json_path, r.byte_offset, r.reason, r.raw, r.times_seen
       FROM ingestion_rejects r
       LEFT JOIN raw_ingestions ri ON ri.id = r.ingestion_id AND ri.user_id = r.user_id
      WHERE ($1::uuid IS NULL OR r.ingestion_id = $1) AND ($2::bigint IS NULL OR r.user_id = $2)
        AND ($3::text IS NULL OR ri.source = $3 OR right(ri.source, length($3) + 1) = '/' || $3)
        AND ($4::text IS NULL OR strpos(lower(r.reason), lower($4)) > 0)
      ORDER BY r.rejected_at DESC, r.id LIMIT $5`,
    [opts.ingestionId ?? null, opts.userId ?? null, opts.file ?? null, opts.reason ?? null, opts.limit ?? 100],
  );
  return rows.map((r) => ({
    ingestionId: r.ingestion_id,
    rejectedAt: r.rejected_at,
    source: r.source,
    table: r.target_table,
    jsonPath: r.json_path,
    byteOffset: r.byte_offset === null ? null : Number(r.byte_offset),
    reason: r.reason,
    raw: r.raw,
    timesSeen: r.times_seen,
  }));
}
