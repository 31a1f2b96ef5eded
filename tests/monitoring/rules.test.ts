/**
 * monitoring/: the alert rules pass promtool (syntax and unit tests), the dashboard is valid and
 * its queries parse, and every healthexport_* metric they name is one the code exports.
 * promtool comes from the Debian package prometheus: without it the promtool checks skip with one
 * printed line, except with CI=true, where they fail.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { METRIC_FAMILIES, METRIC_NAMES, registry } from '../../src/metrics/registry.js';
import { parseSamples } from '../support/pushgateway.js';
import { promtoolOrSkip } from '../support/debian-tools.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PROM_DIR = path.join(ROOT, 'monitoring/prometheus');
const ALERTS = path.join(PROM_DIR, 'alerts.yml');
const ALERT_TESTS = path.join(PROM_DIR, 'alerts.test.yml');
const EXAMPLE_CONFIG = path.join(PROM_DIR, 'prometheus.example.yml');
const DASHBOARD = path.join(ROOT, 'monitoring/grafana/healthexport-dashboard.json');
const README = path.join(ROOT, 'monitoring/README.md');

const EXPECTED_ALERTS = [
  'HealthexportImportFailed',
  'HealthexportRejectRatioHigh',
  'HealthexportNoSuccessfulImport',
  'HealthexportServe5xxRatioHigh',
  'HealthexportServeLatencyP95High',
  'HealthexportDbPoolSaturated',
  'HealthexportPartitionsRunningOut',
  'HealthexportCacheHitRatioLow',
  'HealthexportPhoneStoppedSending',
  'HealthexportServeDown',
  'HealthexportServeAbsent',
  'HealthexportPushgatewayDown',
  'HealthexportPushgatewayDataStale',
  'HealthexportIngestionStuck',
  'HealthexportRejectsSpiking',
  'HealthexportUnauthorizedBurst',
  'HealthexportRateLimitedBurst',
  'HealthexportEventLoopLagHigh',
  'HealthexportMemoryHigh',
  'HealthexportRedisErrors',
  'HealthexportPartitionMissing',
];

/** Series that Prometheus (`up`) and the Pushgateway (`push_time_seconds`) make themselves. */
const SCRAPE_SERIES = ['up', 'push_time_seconds'];

const PROMTOOL = promtoolOrSkip('the promtool checks of monitoring/');

function run(args: string[], cwd = ROOT): Promise<{ code: number; out: string }> {
  const bin = PROMTOOL!;
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout: 300_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

// ---- small extractors (the files are ours; no YAML dependency) -------------------------------

/** PromQL of every `expr:` in a rules file (block scalars and one-line values). */
export function ruleExprs(yaml: string): string[] {
  const lines = yaml.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:- )?expr:\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    const indent = m[1].length;
    const rest = m[2].trim();
    if (rest && !/^[|>][-+]?$/.test(rest)) {
      out.push(rest.replace(/^(['"])(.*)\1$/, '$2'));
      continue;
    }
    const body: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1].trim() === '' || /^\s*/.exec(lines[i + 1])![0].length > indent)) {
      body.push(lines[++i]);
    }
    out.push(body.join('\n'));
  }
  return out;
}

/** Metric names used in PromQL: quoted label values and comments removed first. */
export function metricNamesIn(promql: string): string[] {
  const stripped = promql.replace(/#[^\n]*/g, '').replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  return [...stripped.matchAll(/(?<![A-Za-z0-9_:])healthexport_[A-Za-z0-9_:]*/g)].map((m) => m[0]);
}

interface Dashboard {
  __inputs?: { name: string; type: string; pluginId: string }[];
  panels: Panel[];
  templating?: { list: { name: string; type: string; query?: unknown; definition?: string }[] };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
  fieldConfig?: { defaults?: { unit?: string } };
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const allPanels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const contentPanels = allPanels.filter((p) => p.type !== 'row');
const dashboardExprs = contentPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const variableQueries = (dashboard.templating?.list ?? []).flatMap((v) => [
  v.definition ?? '',
  typeof v.query === 'string' ? v.query : ((v.query as { query?: string } | undefined)?.query ?? ''),
]);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'healthexport-monitoring-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!PROMTOOL)('promtool', () => {
  it('check rules: alerts.yml is valid', async () => {
    const r = await run(['check', 'rules', ALERTS]);
    expect(r.out).toContain(`SUCCESS: ${EXPECTED_ALERTS.length} rules found`);
    expect(r.code, r.out).toBe(0);
  });

  it('test rules: every unit test of alerts.test.yml passes', async () => {
    const r = await run(['test', 'rules', ALERT_TESTS]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS/);
  });

  it('check config: the example Prometheus configuration (with the rules) is valid', async () => {
    const r = await run(['check', 'config', EXAMPLE_CONFIG]);
    expect(r.code, r.out).toBe(0);
  });

  it('every PromQL query of the dashboard parses', async () => {
    const rules = dashboardExprs.map((expr, i) => {
      const q = expr
        .replace(/\$__rate_interval|\$__interval|\$__range/g, '5m')
        .replace(/\$\{?instance(?::\w+)?\}?/g, '.*');
      return `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(q)}\n`;
    });
    const file = path.join(tmp, 'dashboard-queries.yml');
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('')}`);
    const r = await run(['check', 'rules', file]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`SUCCESS: ${dashboardExprs.length} rules found`);
  });
});

describe('alert rules', () => {
  const text = readFileSync(ALERTS, 'utf8');
  const blocks = text.split(/\n(?=\s*- alert: )/).filter((b) => /^\s*- alert: /.test(b));

  it('define exactly the expected alerts, each with a severity and summary/description', () => {
    const names = blocks.map((b) => /- alert: (\w+)/.exec(b)![1]);
    expect(names.sort()).toEqual([...EXPECTED_ALERTS].sort());
    for (const b of blocks) {
      const name = /- alert: (\w+)/.exec(b)![1];
      expect(b, name).toMatch(/\n\s+labels:\n\s+severity: (critical|warning|info)\n/);
      expect(b, name).toMatch(/\n\s+summary: \S/);
      expect(b, name).toMatch(/\n\s+description: \S/);
    }
  });

  it('each alert has a unit test where it fires and one where it does not', () => {
    const tests = readFileSync(ALERT_TESTS, 'utf8');
    const cases = [...tests.matchAll(/alertname: (\w+)\s*\n\s*exp_alerts:[ \t]*(\[\])?/g)];
    const fires = new Set(cases.filter((c) => !c[2]).map((c) => c[1]));
    const quiet = new Set(cases.filter((c) => c[2]).map((c) => c[1]));
    for (const a of EXPECTED_ALERTS) {
      expect(fires.has(a), `${a} has no firing case`).toBe(true);
      expect(quiet.has(a), `${a} has no non-firing case`).toBe(true);
    }
  });
});

describe('metric names used in monitoring/ are exported by the code', () => {
  const exported = new Set(METRIC_NAMES);

  it('the extractor sees through quoted label values', () => {
    expect(metricNamesIn('sum(healthexport_records_total{job="healthexport_import"}) # healthexport_nope')).toEqual([
      'healthexport_records_total',
    ]);
    expect(ruleExprs('      - alert: X\n        expr: |\n          a > 1\n          or b\n        for: 5m\n      - record: y\n        expr: up == 0\n')).toEqual([
      '          a > 1\n          or b',
      'up == 0',
    ]);
  });

  it('dashboard queries and variables', () => {
    const used = [...dashboardExprs, ...variableQueries].flatMap(metricNamesIn);
    expect(new Set(used).size).toBeGreaterThanOrEqual(12);
    expect(used.filter((n) => !exported.has(n))).toEqual([]);
  });

  it('alert rule expressions', () => {
    const exprs = ruleExprs(readFileSync(ALERTS, 'utf8'));
    expect(exprs).toHaveLength(EXPECTED_ALERTS.length);
    const used = exprs.flatMap(metricNamesIn);
    expect(new Set(used).size).toBeGreaterThanOrEqual(8);
    expect(used.filter((n) => !exported.has(n))).toEqual([]);
  });

  it('series of the rule unit tests', async () => {
    const tests = readFileSync(ALERT_TESTS, 'utf8');
    const series = [...tests.matchAll(/series: '([^'{]+)/g)].map((m) => m[1]);
    expect(series.length).toBeGreaterThan(10);
    // Node's own (nodejs_*, process_*) must be in what the registry really exposes.
    const exposed = new Set(parseSamples(await registry.metrics()).map((s) => s.name));
    const unknown = series.filter((n) => !exported.has(n) && !SCRAPE_SERIES.includes(n) && !exposed.has(n));
    expect(unknown).toEqual([]);
    expect(series.filter((n) => !n.startsWith('healthexport_') && !SCRAPE_SERIES.includes(n)).length).toBeGreaterThan(0);
  });

  it('non-healthexport metrics of the rules are ones Prometheus, the Pushgateway or the registry produce', async () => {
    const exposed = new Set(parseSamples(await registry.metrics()).map((s) => s.name));
    const exprs = ruleExprs(readFileSync(ALERTS, 'utf8')).map((e) => e.replace(/#[^\n]*/g, '').replace(/"(?:[^"\\]|\\.)*"/g, '""'));
    const names = exprs.flatMap((e) => [...e.matchAll(/(?<![A-Za-z0-9_:.])([a-z_][a-z0-9_]*)(?=\{|\s*[><=)]|\s*$)/g)].map((m) => m[1]));
    const others = [...new Set(names)].filter((n) => /^(up|push_time_seconds|nodejs_|process_)/.test(n));
    expect(others.sort()).toEqual(['nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes', 'push_time_seconds', 'up']);
    for (const n of others.filter((x) => !SCRAPE_SERIES.includes(x))) expect(exposed, n).toContain(n);
  });
});

describe('dashboard', () => {
  it('is valid JSON with at least 8 panels and unique panel ids', () => {
    expect(contentPanels.length).toBeGreaterThanOrEqual(8);
    const ids = allPanels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses the ${DS_PROMETHEUS} data source input everywhere', () => {
    expect(dashboard.__inputs?.some((i) => i.name === 'DS_PROMETHEUS' && i.pluginId === 'prometheus')).toBe(true);
    expect(dashboard.templating?.list.some((v) => v.name === 'DS_PROMETHEUS' && v.type === 'datasource')).toBe(true);
    for (const p of contentPanels) {
      expect(p.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.fieldConfig?.defaults?.unit, p.title).toBeTruthy();
    }
  });

  it('covers the panels the issue asks for', () => {
    const titles = contentPanels.map((p) => p.title.toLowerCase());
    for (const want of [
      /throughput/,
      /outcomes by table/,
      /reject/,
      /run durations/,
      /last successful import age/,
      /http request rate/,
      /http latency/,
      /http errors/,
      /pool saturation/,
      /cache hit ratio/,
    ]) {
      expect(titles.some((t) => want.test(t)), String(want)).toBe(true);
    }
  });
});

describe('README', () => {
  const readme = readFileSync(README, 'utf8');
  it('documents every metric and every alert', () => {
    for (const { name } of METRIC_FAMILIES) expect(readme, name).toContain(`\`${name}\``);
    for (const a of EXPECTED_ALERTS) expect(readme, a).toContain(`\`${a}\``);
  });
});
