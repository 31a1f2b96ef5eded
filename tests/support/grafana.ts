/**
 * The SQL that Grafana's built-in PostgreSQL data source would send for a dashboard query, for a
 * fixed time range: template variables first (the frontend does that), then the global
 * substitutions and the postgres macro engine of the backend, reproduced from Grafana's
 * pkg/tsdb/grafana-postgresql-datasource (sqleng Interpolate and macros.go):
 *
 *   $__interval_ms, $__interval           the query interval (FormatInterval: 1h, 15m, 1d, ...)
 *   $__unixEpochFrom(), $__unixEpochTo()  seconds
 *   $__timeFilter(col)                    col BETWEEN '<from RFC3339Nano>' AND '<to>'
 *   $__timeFrom(), $__timeTo()            '<RFC3339Nano>'
 *   $__time(col)                          col AS "time"
 *   $__timeEpoch(col)                     extract(epoch from col) as "time"
 *   $__timeGroup(col, '1h')               floor(extract(epoch from col)/3600)*3600
 *   $__timeGroupAlias(col, '1h')          the same AS "time"
 *   $__unixEpochFilter(col)               col >= <from s> AND col <= <to s>
 *   $__unixEpochGroup(col, '1h')          floor((col)/3600)*3600, and its Alias form
 * Used by the dashboard test and by the bench.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HEALTH_DASHBOARD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../monitoring/grafana/healthexport-health.json');

export interface GrafanaRange {
  from: Date;
  to: Date;
  /** The panel's query interval. */
  intervalMs: number;
}

/** Go's time.RFC3339Nano in UTC: fractional seconds without trailing zeros, none when whole. */
export function rfc3339Nano(d: Date): string {
  const s = d.toISOString();
  return s.replace(/\.(\d{3})Z$/, (_, ms: string) => (ms === '000' ? 'Z' : `.${ms.replace(/0+$/, '')}Z`));
}

/** gtime.FormatInterval. */
export function formatInterval(ms: number): string {
  const units: [number, string][] = [[365 * 86_400_000, 'y'], [86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's'], [1, 'ms']];
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}

/** gtime.ParseInterval for the forms dashboards use: 15m, 1h, 1d, 1w, 1y, 500ms, 30s. */
export function parseInterval(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(text.trim().replace(/^'|'$/g, ''));
  if (!m) throw new Error(`error parsing interval ${text}`);
  const size = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 }[m[2]]!;
  return Number(m[1]) * size;
}

/** Replaces $name and ${name} of the dashboard's template variables (raw single values). */
export function interpolateVariables(sql: string, vars: Record<string, string>): string {
  return sql.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    if (name.startsWith('__')) return whole;
    if (!(name in vars)) throw new Error(`dashboard query uses $${name}, which has no value`);
    return vars[name];
  });
}

function macro(name: string, args: string[], r: GrafanaRange): string {
  const from = rfc3339Nano(r.from);
  const to = rfc3339Nano(r.to);
  const secs = (d: Date) => Math.floor(d.getTime() / 1000);
  const needColumn = () => {
    if (!args[0]) throw new Error(`missing time column argument for macro ${name}`);
  };
  switch (name) {
    case '__time':
      needColumn();
      return `${args[0]} AS "time"`;
    case '__timeEpoch':
      needColumn();
      return `extract(epoch from ${args[0]}) as "time"`;
    case '__timeFilter':
      needColumn();
      return `${args[0]} BETWEEN '${from}' AND '${to}'`;
    case '__timeFrom':
      return `'${from}'`;
    case '__timeTo':
      return `'${to}'`;
    case '__timeGroup':
    case '__timeGroupAlias': {
      if (args.length < 2) throw new Error(`macro ${name} needs time column and interval and optional fill value`);
      const s = parseInterval(args[1]) / 1000;
      const g = `floor(extract(epoch from ${args[0]})/${s})*${s}`;
      return name === '__timeGroupAlias' ? `${g} AS "time"` : g;
    }
    case '__unixEpochFilter':
      needColumn();
      return `${args[0]} >= ${secs(r.from)} AND ${args[0]} <= ${secs(r.to)}`;
    case '__unixEpochGroup':
    case '__unixEpochGroupAlias': {
      if (args.length < 2) throw new Error(`macro ${name} needs time column and interval and optional fill value`);
      const s = parseInterval(args[1]) / 1000;
      const g = `floor((${args[0]})/${s})*${s}`;
      return name === '__unixEpochGroupAlias' ? `${g} AS "time"` : g;
    }
    default:
      throw new Error(`unknown macro "${name}"`);
  }
}

/** Grafana's backend steps: global substitutions, then the postgres macros. */
export function expandMacros(sql: string, r: GrafanaRange): string {
  let out = sql
    .replaceAll('$__interval_ms', String(r.intervalMs))
    .replaceAll('$__interval', formatInterval(r.intervalMs))
    .replaceAll('$__unixEpochFrom()', String(Math.floor(r.from.getTime() / 1000)))
    .replaceAll('$__unixEpochTo()', String(Math.floor(r.to.getTime() / 1000)));
  out = out.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (_, name: string, rawArgs: string) => {
    // As macros.go: $__timeGroup followed by a comma is taken as $__timeGroupAlias (pre-5.3 dashboards).
    const args = rawArgs.split(',').map((a) => a.trim());
    return macro(name, args, r);
  });
  if (/\$__\w+/.test(out)) throw new Error(`unexpanded macro left in: ${out}`);
  return out;
}

export interface DashboardQuery {
  /** Panel title, or `variable <name>`. */
  title: string;
  panelType: string;
  format: 'time_series' | 'table';
  rawSql: string;
}

interface Panel {
  type: string;
  title: string;
  targets?: { rawSql?: string; format?: string }[];
  panels?: Panel[];
}

/** Every SQL query of the dashboard: panel targets (rows' children included) and query variables. */
export function dashboardQueries(file = HEALTH_DASHBOARD): DashboardQuery[] {
  const dash = JSON.parse(readFileSync(file, 'utf8'));
  const out: DashboardQuery[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      if (p.panels?.length) walk(p.panels);
      for (const t of p.targets ?? []) {
        if (t.rawSql) out.push({ title: p.title, panelType: p.type, format: t.format === 'table' ? 'table' : 'time_series', rawSql: t.rawSql });
      }
    }
  };
  walk(dash.panels);
  for (const v of dash.templating.list) {
    if (v.type === 'query') out.push({ title: `variable ${v.name}`, panelType: 'variable', format: 'table', rawSql: v.query });
  }
  return out;
}

/** The query as Grafana would run it. */
export function grafanaSql(q: DashboardQuery, vars: Record<string, string>, range: GrafanaRange): string {
  return expandMacros(interpolateVariables(q.rawSql, vars), range);
}
