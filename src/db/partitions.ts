/**
 * Monthly range partitions: created ahead by `partitions create`, on demand by the importer for
 * the historical months a batch touches, listed, and dropped for retention.
 */
import type pg from 'pg';

const escapeIdentifier = (s: string) => `"${s.replace(/"/g, '""')}"`;

export interface PartitionInfo {
  table: string;
  partition: string;
  month: string; // YYYY-MM
  rowsEstimate: number;
  bytes: number;
}

/** First day of the month `offset` months after the month of `d`, as YYYY-MM-DD (UTC). */
export function monthStart(d: Date, offset = 0): string {
  const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));
  return m.toISOString().slice(0, 10);
}

export function parseMonth(s: string): Date {
  const m = /^(\d{4})-(\d{2})$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new Error(`expected a month as YYYY-MM, got "${s}"`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
}

/**
 * Months of partitions created per transaction. Each new partition locks itself, its indexes and
 * its TOAST table until commit (about 5 locks); PostgreSQL's lock table is shared by all sessions
 * (max_locks_per_transaction x max_connections, 6,400 by default), so a decade created in one
 * transaction (12 tables x 120 months: ~7,000 locks) fails with "out of shared memory" and makes
 * every other session's statements fail too. 12 months: ~60 locks per transaction.
 */
export const MONTHS_PER_TRANSACTION = 12;

async function createRange(db: pg.Pool | pg.PoolClient, table: string, from: number, to: number): Promise<number> {
  let created = 0;
  for (let a = from; a <= to; a += MONTHS_PER_TRANSACTION) {
    const b = Math.min(a + MONTHS_PER_TRANSACTION - 1, to);
    const { rows } = await db.query('SELECT healthexport_create_month_partitions($1, $2::date, $3::date) AS n', [
      table,
      monthKeyToDate(a),
      monthKeyToDate(b),
    ]);
    created += rows[0].n;
  }
  return created;
}

/** The month-partitioned tables (healthexport_partitioned_tables). */
export async function partitionedTables(db: pg.Pool): Promise<string[]> {
  const { rows } = await db.query('SELECT table_name FROM healthexport_partitioned_tables ORDER BY table_name');
  return rows.map((r) => r.table_name as string);
}

/** Creates partitions for every table from `from` through `monthsAhead` months after now. */
export async function createPartitionsAhead(
  db: pg.Pool,
  opts: { monthsAhead?: number; from?: Date; now?: Date } = {},
): Promise<number> {
  const now = opts.now ?? new Date();
  const from = monthKey((opts.from ?? now).getTime());
  const to = monthKey(Date.parse(monthStart(now, opts.monthsAhead ?? 12)));
  let created = 0;
  // Table by table, a year per transaction (see MONTHS_PER_TRANSACTION).
  for (const table of await partitionedTables(db)) created += await createRange(db, table, from, to);
  return created;
}

/**
 * Ensures the month partitions of `table` covering the given months (epoch-month keys,
 * see monthKey) exist. `known` caches what this process already ensured.
 *
 * The importer calls this while its own COPYs into the same table are in flight, so each month
 * is made as a table of its own and then attached: ATTACH PARTITION locks the parent only in
 * SHARE UPDATE EXCLUSIVE mode, which those COPYs do not block, where CREATE TABLE ... PARTITION
 * OF (healthexport_create_month_partitions) waits for every one of them to commit and holds up
 * the next ones (0.45 s against 2.5 s behind a 3 s insert; bench/README.md). Names, indexes and
 * constraints come out the same; the same advisory lock, one per table (migration 0010), serialises
 * it with the SQL function while other tables' partitions are made at the same time.
 */
export async function ensureMonths(
  db: pg.Pool,
  table: string,
  months: Iterable<number>,
  known: Set<string>,
  /** Gets the months that had no partition when this call looked (made by it, or by another session meanwhile). */
  made?: number[],
): Promise<number> {
  // Batches of one table are written in parallel: a month another batch is creating right now
  // is waited for here rather than behind the advisory lock on a connection of its own.
  let creating = inFlight.get(known);
  if (!creating) inFlight.set(known, (creating = new Map()));
  const wanted = [...months].filter((m) => !known.has(`${table}:${m}`));
  const others = wanted.map((m) => creating.get(`${table}:${m}`)).filter((p) => p !== undefined);
  const missing = wanted.filter((m) => !creating.has(`${table}:${m}`)).sort((a, b) => a - b);
  let created = 0;
  if (missing.length) {
    const mine = createMonthsChunked(db, table, missing);
    for (const m of missing) creating.set(`${table}:${m}`, mine);
    try {
      const absent = await mine;
      created = absent.length;
      made?.push(...absent);
      for (const m of missing) known.add(`${table}:${m}`);
    } finally {
      for (const m of missing) creating.delete(`${table}:${m}`);
    }
  }
  await Promise.all(others);
  return created;
}

/** A year of months per transaction (see MONTHS_PER_TRANSACTION); the months that had no partition. */
async function createMonthsChunked(db: pg.Pool, table: string, missing: number[]): Promise<number[]> {
  const absent: number[] = [];
  for (let i = 0; i < missing.length; i += MONTHS_PER_TRANSACTION) {
    absent.push(...(await createMonths(db, table, missing.slice(i, i + MONTHS_PER_TRANSACTION))));
  }
  return absent;
}

/** Creations under way, per `known` set (one per run): `${table}:${month}` -> the creation. */
const inFlight = new WeakMap<Set<string>, Map<string, Promise<unknown>>>();

/** Makes the partitions of `missing` that do not exist; returns the months that had none. */
async function createMonths(db: pg.Pool, table: string, missing: number[]): Promise<number[]> {
  const { rows } = await db.query<{ i: number }>(
    `SELECT i::int FROM unnest($2::date[]) WITH ORDINALITY AS u(m, i) WHERE to_regclass(quote_ident($1 || '_p' || to_char(m, 'YYYYMM'))) IS NULL`,
    [table, missing.map(monthKeyToDate)],
  );
  if (rows.length > 0) {
    const t = table.replace(/'/g, "''");
    await db.query(`DO $$
DECLARE
  m date;
  part text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM healthexport_partitioned_tables WHERE table_name = '${t}') THEN
    RAISE EXCEPTION 'healthexport: % is not a month-partitioned table', '${t}';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('healthexport_partitions:${t}'));
  -- The lock ATTACH takes anyway, taken first: locking a relation also reads the catalog changes
  -- committed while this transaction waited (an advisory lock does not), so a partition another
  -- session made meanwhile is seen below.
  EXECUTE format('LOCK TABLE %I IN SHARE UPDATE EXCLUSIVE MODE', '${t}');
  FOREACH m IN ARRAY ARRAY[${missing.map((k) => `'${monthKeyToDate(k)}'`).join(', ')}]::date[] LOOP
    part := '${t}' || '_p' || to_char(m, 'YYYYMM');
    IF to_regclass(quote_ident(part)) IS NULL THEN
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING ALL)', part, '${t}');
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', '${t}', part,
                     m::text || ' 00:00:00+00', (m + interval '1 month')::date::text || ' 00:00:00+00');
    END IF;
  END LOOP;
END $$`);
  }
  return rows.map((r) => missing[r.i - 1]);
}

/** Months since 1970-01 (UTC) of an epoch-ms instant: a cheap integer key for partition months (negative before 1970). */
export function monthKey(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 12 + d.getUTCMonth() - 1970 * 12;
}

/** The first day of a monthKey's month, as YYYY-MM-DD (years before 1000 zero-padded, as SQL wants them). */
export function monthKeyToDate(key: number): string {
  const years = Math.floor(key / 12);
  const y = years + 1970;
  const m = key - years * 12 + 1;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-01`;
}

export async function listPartitions(db: pg.Pool, table?: string): Promise<PartitionInfo[]> {
  const { rows } = await db.query(
    `SELECT p.relname AS parent, c.relname AS partition,
            greatest(c.reltuples, 0)::bigint AS rows_estimate,
            pg_total_relation_size(c.oid) AS bytes
       FROM healthexport_partitioned_tables t
       JOIN pg_class p ON p.oid = to_regclass(quote_ident(t.table_name))
       JOIN pg_inherits i ON i.inhparent = p.oid
       JOIN pg_class c ON c.oid = i.inhrelid
      WHERE $1::text IS NULL OR p.relname = $1
      ORDER BY p.relname, c.relname`,
    [table ?? null],
  );
  return rows.map((r) => {
    const ym = /_p(\d{4})(\d{2})$/.exec(r.partition);
    return {
      table: r.parent,
      partition: r.partition,
      month: ym ? `${ym[1]}-${ym[2]}` : '?',
      rowsEstimate: Number(r.rows_estimate),
      bytes: Number(r.bytes),
    };
  });
}

/** Drops every partition whose month is before `olderThan` (retention). Returns the names dropped. */
export async function dropPartitionsOlderThan(db: pg.Pool, olderThan: Date): Promise<string[]> {
  const cutoff = monthStart(olderThan).slice(0, 7);
  const victims = (await listPartitions(db)).filter((p) => p.month !== '?' && p.month < cutoff);
  // One partition per transaction: dropping a decade of partitions at once would hold a lock per
  // table and index until the end, more than PostgreSQL's shared lock table has room for.
  for (const p of victims) await db.query(`DROP TABLE IF EXISTS ${escapeIdentifier(p.partition)}`);
  return victims.map((p) => p.partition);
}

/**
 * Drops every partition of `table`, one per transaction (see MONTHS_PER_TRANSACTION), so that
 * dropping the table afterwards locks only the table itself. Returns how many were dropped.
 */
export async function dropAllPartitions(db: pg.Pool | pg.PoolClient, table: string): Promise<number> {
  const { rows } = await db.query(
    `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = to_regclass(quote_ident($1)) ORDER BY c.relname`,
    [table],
  );
  for (const r of rows) await db.query(`DROP TABLE IF EXISTS ${escapeIdentifier(r.relname)}`);
  return rows.length;
}
