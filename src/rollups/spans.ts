/**
 * Spans of time whose rollups a write touched: per series (a metric of activity_metrics, '' for
 * tables with fixed metrics), whole quarter-hours [lo, hi), merged so no two overlap (an input
 * row joined to two overlapping spans would be counted twice).
 */
import type pg from 'pg';

export interface Spans {
  series: string[];
  /** Epoch ms, multiples of 15 minutes; hi exclusive. */
  lo: number[];
  hi: number[];
}

export const QUARTER_MS = 900_000;

interface Span {
  series: string;
  lo: number;
  hi: number;
}

export function mergeSpans(items: Span[]): Spans {
  const sorted = [...items].sort((a, b) => (a.series < b.series ? -1 : a.series > b.series ? 1 : a.lo - b.lo));
  const out: Spans = { series: [], lo: [], hi: [] };
  for (const s of sorted) {
    const last = out.series.length - 1;
    if (last >= 0 && out.series[last] === s.series && s.lo <= out.hi[last]) {
      out.hi[last] = Math.max(out.hi[last], s.hi);
    } else {
      out.series.push(s.series);
      out.lo.push(s.lo);
      out.hi.push(s.hi);
    }
  }
  return out;
}

/** The quarter-aligned span [floor(min), floor(max) + 15 min) of instants from min to max. */
export function quarterSpan(series: string, minMs: number, maxMs: number): Span {
  return {
    series,
    lo: Math.floor(minMs / QUARTER_MS) * QUARTER_MS,
    hi: (Math.floor(maxMs / QUARTER_MS) + 1) * QUARTER_MS,
  };
}

/**
 * Spans of the rows in a staging table: every quarter-hour holding one of them. A sparse update
 * (one changed value a year) thus recomputes one quarter, not the year between.
 */
export async function spansOfStaged(
  db: Pick<pg.PoolClient, 'query'>,
  staged: string,
  timeColumn: string,
  seriesColumn: string | null,
  skipSeries: readonly string[] = [],
): Promise<Spans> {
  const series = seriesColumn ?? `''`;
  const where = seriesColumn && skipSeries.length ? `WHERE ${seriesColumn} <> ALL ($1::text[])` : '';
  const { rows } = await db.query(
    `SELECT ${series} AS series, (floor(extract(epoch FROM ${timeColumn}) / 900) * 900000)::float8 AS q
     FROM ${staged} ${where} GROUP BY 1, 2`,
    where ? [skipSeries] : [],
  );
  return mergeSpans(rows.map((r) => ({ series: r.series as string, lo: Number(r.q), hi: Number(r.q) + QUARTER_MS })));
}
