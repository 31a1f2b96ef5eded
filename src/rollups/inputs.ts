/**
 * Which stored rows feed the rollups, and as what: every base table that rolls up is read as
 * rows of (metric, at, source, unit, value, low, high), so one aggregation serves them all.
 *
 * - activity_metrics: each metric by its own name; qty is value, low and high (text-only samples,
 *   such as a headache's "Mild", have no qty and do not roll up).
 * - heart_rate_metrics: `heart_rate`; value is the sample's avg, low/high its min/max.
 * - blood_pressure_metrics: `blood_pressure_systolic` and `blood_pressure_diastolic`.
 * - sleep_metrics: `sleep_analysis`, a night's total sleep.
 */
import type { HealthRecord } from '../records/model.js';

export interface RollupInput {
  table: string;
  timeColumn: string;
  /** activity_metrics: the column naming the metric, so touched spans are tracked per metric. */
  seriesColumn: string | null;
  /** Tables without a series column: the metric names they roll up into. */
  metrics: readonly string[];
  /**
   * Series column values left to another table's rollup. Each rolled-up metric comes from one
   * table only: an Apple export lists a blood-pressure reading's systolic and diastolic samples
   * both inside its <Correlation> (blood_pressure_metrics) and again as top-level <Record>s
   * (activity_metrics). Counting both would double the samples, and the two tables' refreshes
   * would each rewrite the other's quarters (seen as duplicate keys in rollup_quarters).
   */
  skipSeries: readonly string[];
  /** (metric, value, low, high) expressions over alias x, one SELECT each. */
  selects: readonly (readonly [string, string, string, string])[];
  where: string | null;
  /**
   * The same definition over a batch's rows, for aggregating it before it is sent: per select,
   * the metric (a column or a fixed name), the value column and the low/high columns (NULL
   * there: the value).
   */
  fromRows: readonly RowSelect[];
  /**
   * The same again over a record as it is batched (aggregate.ts, RecordQuarters): each of its
   * samples as (index in fromRows, metric, value, low, high), numbers as their columns store them
   * (a real column's as float4). Time, source and unit are the record's own.
   */
  fromRecord(r: HealthRecord, sample: SampleOf): void;
}

export type SampleOf = (k: number, metric: string, value: number, low: number, high: number) => void;

const f4 = Math.fround;

export interface RowSelect {
  metric: { column: string } | { name: string };
  value: string;
  low: string;
  high: string;
}

/** The metrics the fixed-metric tables roll up into: activity_metrics leaves them to those. */
const OWN_TABLE_METRICS = ['heart_rate', 'blood_pressure_systolic', 'blood_pressure_diastolic', 'sleep_analysis'];

const INPUTS: readonly RollupInput[] = [
  {
    table: 'activity_metrics',
    timeColumn: 'recorded_at',
    seriesColumn: 'metric',
    metrics: [],
    skipSeries: OWN_TABLE_METRICS,
    selects: [['x.metric', 'x.qty', 'x.qty', 'x.qty']],
    where: `x.qty IS NOT NULL AND x.metric NOT IN (${OWN_TABLE_METRICS.map((m) => `'${m}'`).join(', ')})`,
    fromRows: [{ metric: { column: 'metric' }, value: 'qty', low: 'qty', high: 'qty' }],
    fromRecord: (r, sample) => {
      if (r.kind === 'quantity' && r.qty !== null) sample(0, r.metric, r.qty, r.qty, r.qty);
    },
  },
  {
    table: 'heart_rate_metrics',
    timeColumn: 'recorded_at',
    seriesColumn: null,
    skipSeries: [],
    metrics: ['heart_rate'],
    selects: [["'heart_rate'", 'x.avg_bpm', 'coalesce(x.min_bpm, x.avg_bpm)', 'coalesce(x.max_bpm, x.avg_bpm)']],
    where: null,
    fromRows: [{ metric: { name: 'heart_rate' }, value: 'avg_bpm', low: 'min_bpm', high: 'max_bpm' }],
    fromRecord: (r, sample) => {
      if (r.kind !== 'heart_rate') return;
      const avg = f4(r.avg);
      sample(0, 'heart_rate', avg, r.min === null ? avg : f4(r.min), r.max === null ? avg : f4(r.max));
    },
  },
  {
    table: 'blood_pressure_metrics',
    timeColumn: 'recorded_at',
    seriesColumn: null,
    skipSeries: [],
    metrics: ['blood_pressure_systolic', 'blood_pressure_diastolic'],
    selects: [
      ["'blood_pressure_systolic'", 'x.systolic', 'x.systolic', 'x.systolic'],
      ["'blood_pressure_diastolic'", 'x.diastolic', 'x.diastolic', 'x.diastolic'],
    ],
    where: null,
    fromRows: [
      { metric: { name: 'blood_pressure_systolic' }, value: 'systolic', low: 'systolic', high: 'systolic' },
      { metric: { name: 'blood_pressure_diastolic' }, value: 'diastolic', low: 'diastolic', high: 'diastolic' },
    ],
    fromRecord: (r, sample) => {
      if (r.kind !== 'blood_pressure') return;
      const sys = f4(r.systolic);
      const dia = f4(r.diastolic);
      sample(0, 'blood_pressure_systolic', sys, sys, sys);
      sample(1, 'blood_pressure_diastolic', dia, dia, dia);
    },
  },
  {
    table: 'sleep_metrics',
    timeColumn: 'recorded_at',
    seriesColumn: null,
    skipSeries: [],
    metrics: ['sleep_analysis'],
    selects: [["'sleep_analysis'", 'x.total_sleep', 'x.total_sleep', 'x.total_sleep']],
    where: 'x.total_sleep IS NOT NULL',
    fromRows: [{ metric: { name: 'sleep_analysis' }, value: 'total_sleep', low: 'total_sleep', high: 'total_sleep' }],
    fromRecord: (r, sample) => {
      if (r.kind !== 'sleep_night' || r.totalSleep === null) return;
      const total = f4(r.totalSleep);
      sample(0, 'sleep_analysis', total, total, total);
    },
  },
];

const BY_TABLE = new Map(INPUTS.map((i) => [i.table, i]));

// skipSeries must name exactly the metrics the fixed-metric tables roll up into.
const FIXED = INPUTS.flatMap((i) => i.metrics).sort().join();
for (const i of INPUTS) {
  if (i.seriesColumn && [...i.skipSeries].sort().join() !== FIXED) throw new Error(`rollups: ${i.table} skipSeries is not ${FIXED}`);
}

/** The rollup input of a base table, or undefined for tables that do not roll up. */
export function rollupInput(table: string): RollupInput | undefined {
  return BY_TABLE.get(table);
}

export function rollupInputs(): readonly RollupInput[] {
  return INPUTS;
}

/**
 * The input rows of one table for user $1. `join` (optional) restricts them: SQL joined to
 * alias x, e.g. spans in a CTE `r`.
 */
export function inputRowsSql(input: RollupInput, join = ''): string {
  const where = ['x.user_id = $1', input.where].filter(Boolean).join(' AND ');
  return input.selects
    .map(
      ([metric, value, low, high]) =>
        `SELECT ${metric}::text AS metric, x.${input.timeColumn} AS at, x.source, coalesce(x.unit, '') AS unit,
                ${value}::float8 AS value, ${low}::float8 AS low, ${high}::float8 AS high
         FROM ${input.table} x ${join} WHERE ${where}`,
    )
    .join('\nUNION ALL\n');
}

/** Quarter-hour start of an instant, in SQL (15-minute bins from the Unix epoch). */
export const QUARTER = (col: string): string => `date_bin('15 minutes', ${col}, '1970-01-01 00:00:00+00')`;

/**
 * Aggregates input rows into rollup_quarters rows for user $1. The source's rank is computed per
 * aggregated row, with the user's patterns read once (OFFSET 0 keeps PostgreSQL from folding
 * that lookup into the scan, where it ran once per input row: 436 ms for 17 days of per-minute
 * heart rate against 25 ms).
 */
export function insertQuartersSql(inputRows: string): string {
  return `INSERT INTO rollup_quarters (user_id, metric, bucket, source, unit, priority, samples, total, low, high)
    SELECT $1, g.metric, g.bucket, g.source, g.unit, healthexport_source_rank(p.patterns, g.source), g.samples, g.total, g.low, g.high
    FROM (
      SELECT i.metric, ${QUARTER('i.at')} AS bucket, i.source, i.unit,
             count(*) AS samples, sum(i.value) AS total, min(i.low) AS low, max(i.high) AS high
      FROM (${inputRows}) i
      GROUP BY 1, 2, 3, 4
    ) g CROSS JOIN (SELECT healthexport_source_patterns($1) AS patterns OFFSET 0) p`;
}
