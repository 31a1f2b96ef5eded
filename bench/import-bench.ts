/**
 * npm run bench [-- --size 5GB] [--only 300MB,1GB] [--profile] [--hae-only] [--apple-size 300MB] [--apple-repeat 3]
 *                 [--naive-size 100MB | --no-naive] [--database-url postgres://...] [--dir /tmp/healthexport-bench]
 *                 [--db-prefix healthexport_bench] [--functions] [--keep-files] [--import-args "--concurrency 3"] [--no-copy]
 *
 * Not a test: prints throughput, CPU and memory of `healthexport import` on synthetic exports of
 * 100 MB and 1 GB (plus every --size given, e.g. 5GB; --only replaces the list), each against
 * the ceiling (psql \copy of the same rows from text files into the same partitioned tables),
 * one line per size so a reader sees whether cost grows linearly and memory stays flat. The Apple
 * export.xml path against \copy of its own rows runs first (see below), a naive baseline (JSON.parse
 * of the whole file + multi-row INSERT) after the sizes.
 *
 * CPU-seconds (user+sys of the import process tree, and of the PostgreSQL backends serving it)
 * are printed next to wall time: on a shared machine they move less with the neighbours' load.
 * `--profile` adds, per size, where the time goes: node --cpu-prof of the import by stage,
 * and what the PostgreSQL backends did (pg_stat_activity sampled every 50 ms). See bench/README.md.
 *
 * Generated exports over 2 GB are deleted at the end (--keep-files keeps them); smaller ones are
 * kept in --dir for the next run.
 */
import { readFileSync, rmSync, statSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateExport, parseSize } from '../examples/generate.js';
import { dashboardBench } from './dashboard-bench.js';
import { importOnce as importWith, type Measured } from './measure.js';
import {
  adminUrl as adminUrlArg,
  arg,
  benchDbName,
  copyCeiling,
  copyPartitions,
  dropDatabase,
  freshDatabase,
  rowCounts,
  timed,
  type Timed,
} from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/healthexport.js');

const flag = (name: string) => process.argv.includes(`--${name}`);
const list = (s: string) => s.split(',').filter(Boolean).map(parseSize);
const only = arg('only', '');
const extra = arg('size', '');
const sizes = only ? list(only) : [...new Set([...list('100MB,1GB'), ...list(extra)])].sort((a, b) => a - b);
const profile = flag('profile');
/** Passed on to `healthexport import`, e.g. --import-args "--concurrency 3". */
const extraArgs = arg('import-args', '').split(' ').filter(Boolean);
const adminUrl = adminUrlArg();
const work = arg('dir', '/tmp/healthexport-bench');
mkdirSync(work, { recursive: true });
const DB = benchDbName();

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mbOf = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : `${(b / 1e6).toFixed(0)} MB`);

/**
 * The generator writes ~97 MB per year of history from its start day (1.07 GB: 2015-01-01 to
 * 2025-11). A bigger export must start earlier, or its last years would fall after today and
 * every record there be rejected (a first 5 GB run on 2026-12-01 was 22 M rejects out of 44.6 M:
 * a measure of the reject path, not of loading). So an export that would end within a year of
 * now starts as many years earlier as it needs; its span, and with it the month partitions, then
 * grow with its size, which the printed line says.
 */
const BYTES_PER_YEAR = 97e6;
function startFor(bytes: number): string {
  const years = bytes / BYTES_PER_YEAR;
  const ends = 2015 + years; // fractional year
  const now = new Date().getUTCFullYear() + new Date().getUTCMonth() / 12;
  return ends < now - 0.25 ? '2015-01-01' : `${Math.floor(now - years - 1)}-01-01`;
}

async function makeExport(bytes: number, file: string) {
  const meta = `${file}.meta.json`;
  const start = startFor(bytes);
  if (existsSync(file) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8'));
    if (m.requested === bytes && (m.start ?? '2015-01-01') === start) return m;
  }
  const t = Date.now();
  const r = await generateExport({ sizeBytes: bytes, out: file, seed: 42, start });
  if (start !== '2015-01-01') console.log(`bench: the ${mbOf(bytes)} export starts ${start} so that it ends before today`);
  const m = { requested: bytes, start, ...r };
  writeFileSync(meta, JSON.stringify(m));
  console.log(`generated ${file}: ${(r.bytes / 1e6).toFixed(0)} MB, ${r.totalRecords.toLocaleString()} records in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return m;
}

interface SizeResult {
  bytes: number;
  records: number;
  first: Measured;
  second: Measured;
  stored: number;
  ceiling: Awaited<ReturnType<typeof copyCeiling>>;
}

const importOnce = (file: string, url: string, label: string, more: string[] = []) =>
  importWith({ bin, input: file, url, adminUrl, dbName: DB, label, profile, work, functions: flag('functions'), extraArgs: [...extraArgs, ...more] });

// The Apple Health export.xml path, in the same run, first: after the HAE sizes it met a server
// that had just dropped databases of tens of thousands of files, and ext4 then skips the inodes
// freed in the last minutes when it makes a file (perf: `recently_deleted` 7 % of a partition's
// creation). The Apple import makes ~260 partitions while it is timed; \copy's are made untimed.
if (!flag('hae-only')) {
  const { appleBench } = await import('./apple-bench.js');
  await appleBench({
    size: parseSize(arg('apple-size', '300MB')),
    adminUrl,
    work,
    profile,
    functions: flag('functions'),
    dbName: benchDbName('apple'),
    repeat: Number(arg('apple-repeat', '3')),
  });
}

const generated: string[] = [];
const rollupLines: string[] = [];
const results: SizeResult[] = [];
for (const size of sizes) {
  const file = path.join(work, `export-${size}.json`);
  if (size > 2e9 && !existsSync(file)) generated.push(file);
  const meta = await makeExport(size, file);
  const url = await freshDatabase(adminUrl, DB);
  const first = await importOnce(file, url, `${mbOf(size)} first import`);
  console.error(`bench: ${mbOf(size)} first import ${first.seconds.toFixed(1)} s`);
  const second = await importOnce(file, url, `${mbOf(size)} second import`);
  console.error(`bench: ${mbOf(size)} second import ${second.seconds.toFixed(1)} s`);
  const stored = await rowCounts(url);
  // The health data side, on the largest size: dashboard queries and summary over the rollups,
  // then the import again with rollups left to one rebuild at the end (= the import without them).
  if (size === sizes[sizes.length - 1] && !flag('no-rollups-bench')) {
    const dash = await dashboardBench(url);
    const endUrl = await freshDatabase(adminUrl, `${DB}_end`);
    const end = await importWith({ bin, input: file, url: endUrl, adminUrl, dbName: `${DB}_end`, label: 'rollups end', profile: false, work, extraArgs: ['--rollups', 'end'] });
    await dropDatabase(adminUrl, `${DB}_end`);
    const kept = first.s.durationMs / 1000;
    const without = end.s.durationMs / 1000;
    rollupLines.push(
      `  rollups (${mbOf(size)}, import time inside the CLI): kept per batch ${kept.toFixed(1)} s; with --rollups end the import alone (no rollups) ${without.toFixed(1)} s, then one rebuild ${(end.seconds - without).toFixed(1)} s (CLI wall minus import); per-batch upkeep ${(((kept - without) / without) * 100).toFixed(0)} % of the import without it`,
      ...dash.lines,
    );
  }
  // --no-copy skips the ceiling (for quick before/after comparisons of the import alone).
  const ceiling = flag('no-copy') ? { seconds: NaN, rows: 0, cpu: NaN, dbCpu: NaN, walBytes: NaN } : await copyCeiling(adminUrl, url, `${DB}_copy`, work);
  results.push({ bytes: statSync(file).size, records: meta.totalRecords, first, second, stored, ceiling });
  await dropDatabase(adminUrl, DB);
  if (first.profileText) console.log(`\n${first.profileText}\n\n${second.profileText}`);
}

/** The baseline most scripts start as: parse it all, then INSERT 1000 rows per statement. */
async function naiveLoad(file: string, url: string): Promise<{ seconds: number; rows: number; peakRssMb: number }> {
  const script = `
    import pg from 'pg'; import { readFileSync } from 'node:fs';
    const pool = new pg.Pool({ connectionString: process.env.URL });
    const doc = JSON.parse(readFileSync(process.env.FILE, 'utf8'));
    await pool.query("INSERT INTO users (name) VALUES ('naive') ON CONFLICT DO NOTHING");
    let rows = 0;
    async function insert(table, cols, values) {
      for (let i = 0; i < values.length; i += 1000) {
        const part = values.slice(i, i + 1000); const params = []; const tuples = [];
        for (const v of part) { tuples.push('(' + v.map((x) => { params.push(x); return '$' + params.length; }).join(',') + ')'); }
        await pool.query('INSERT INTO ' + table + ' (' + cols.join(',') + ') VALUES ' + tuples.join(',') + ' ON CONFLICT DO NOTHING', params);
        rows += part.length;
      }
    }
    for (const m of doc.data.metrics ?? []) {
      if (m.name === 'heart_rate') await insert('heart_rate_metrics', ['user_id','recorded_at','source','min_bpm','avg_bpm','max_bpm'], m.data.map((d) => [1, d.date, d.source ?? '', d.Min, d.Avg, d.Max]));
      else if (m.name === 'blood_pressure' || m.name === 'sleep_analysis') continue;
      else await insert('activity_metrics', ['user_id','metric','recorded_at','source','qty','unit'], m.data.map((d) => [1, m.name, d.date, d.source ?? '', d.qty, m.units]));
    }
    for (const w of doc.data.workouts ?? []) {
      const id = w.id ?? (w.name + w.start);
      await insert('workout_routes', ['user_id','workout_id','recorded_at','latitude','longitude','altitude'], (w.route ?? []).map((p) => [1, id, p.timestamp, p.latitude ?? p.lat, p.longitude ?? p.lon, p.altitude]));
    }
    console.log(JSON.stringify({ rows }));
    await pool.end();`;
  const r = await timed(process.execPath, ['--input-type=module', '-e', script], { URL: url, FILE: file });
  if (r.code !== 0) return { seconds: r.seconds, rows: 0, peakRssMb: r.peakRssMb };
  return { seconds: r.seconds, rows: JSON.parse(r.stdout.trim().split('\n').pop()!).rows, peakRssMb: r.peakRssMb };
}

let naiveLine = '';
if (!flag('no-naive')) {
  const naiveSize = parseSize(arg('naive-size', '100MB'));
  const naiveFile = path.join(work, `export-${naiveSize}.json`);
  await makeExport(naiveSize, naiveFile);
  // Partitions as the real import makes them, so the naive loader is timed on INSERTs alone.
  const src = await freshDatabase(adminUrl, DB);
  await timed(bin, ['import', naiveFile, '--json', '--user', 'bench'], { DATABASE_URL: src });
  const naiveUrl = await freshDatabase(adminUrl, `${DB}_naive`);
  await copyPartitions(src, naiveUrl);
  const naive = await naiveLoad(naiveFile, naiveUrl);
  await dropDatabase(adminUrl, `${DB}_naive`);
  await dropDatabase(adminUrl, DB);
  const small = results.find((r) => r.bytes >= naiveSize * 0.9 && r.bytes <= naiveSize * 1.1);
  const vs = small ? `; healthexport on the same file ${(small.first.s.totals.read / small.first.seconds / (naive.rows / naive.seconds)).toFixed(1)}x faster` : '';
  naiveLine = `  naive loader (JSON.parse whole file + INSERT 1000 rows/statement) on ${mbOf(naiveSize)}: ${naive.seconds.toFixed(1)} s, ${fmt(naive.rows / naive.seconds)} rows/s, peak RSS ${naive.peakRssMb.toFixed(0)} MB${vs}; it cannot read files over ~512 MB at all (the biggest string V8 holds)`;
}

const walPerRecord = (bytes: number | undefined, records: number) =>
  bytes === undefined || !Number.isFinite(bytes) ? '-' : `${(bytes / 1e9).toFixed(2)} GB (${Math.round(bytes / records)})`;

const date = new Date().toISOString().slice(0, 10);
const head = ['size', 'records', 'first import', 'rec/s', 'RSS', 'CPU node+pg', 'second import', 'rec/s', 'RSS', 'CPU node+pg', 'psql \\copy', 'rows/s', 'CPU psql+pg', 'first/\\copy', 'second/first'];
const rows = results.map((r) => {
  const r1 = r.first.s.totals.read / r.first.seconds;
  const r2 = r.second.s.totals.read / r.second.seconds;
  const rc = r.ceiling.rows / r.ceiling.seconds;
  const cpu = (t: Timed) => `${t.cpu!.toFixed(1)}+${t.dbCpu!.toFixed(1)} s`;
  return [
    mbOf(r.bytes), fmt(r.records),
    `${r.first.seconds.toFixed(1)} s`, fmt(r1), `${r.first.peakRssMb.toFixed(0)} MB`, cpu(r.first),
    `${r.second.seconds.toFixed(1)} s`, fmt(r2), `${r.second.peakRssMb.toFixed(0)} MB`, cpu(r.second),
    `${r.ceiling.seconds.toFixed(1)} s`, fmt(rc), `${r.ceiling.cpu.toFixed(1)}+${r.ceiling.dbCpu.toFixed(1)} s`,
    `${(r1 / rc).toFixed(2)}x`, `${(r1 / r2 > 0 ? r2 / r1 : 0).toFixed(2)}x`,
  ];
});
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => '  ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`
healthexport import benchmark (${date}; synthetic HAE exports, seed 42; nproc ${(await import('node:os')).cpus().length}; machine shared, figures noisy)
${line(head)}
${rows.map(line).join('\n')}
  ceiling: psql \\copy of the rows each import stored, from text files, one table after another, partitions made beforehand
  CPU: user+sys CPU-seconds of the import process tree + of the PostgreSQL backends serving it
  RSS: highest sum of VmRSS over the import's process tree (one process unless HEALTHEXPORT_MAX_HEAP_MB runs the import in a capped child); summing Pss instead counts pages shared with other processes once: first import ${results.map((r) => `${mbOf(r.bytes)} ${r.first.peakPssMb.toFixed(0)} MB`).join(', ')}
  WAL written (bytes a record): ${results.map((r) => `${mbOf(r.bytes)} first import ${walPerRecord(r.first.walBytes, r.first.s.totals.read)}, second ${walPerRecord(r.second.walBytes, r.second.s.totals.read)}, \\copy ${walPerRecord(r.ceiling.walBytes, r.ceiling.rows)}`).join('; ')}
${results.map((r) => `  ${mbOf(r.bytes)}: rows stored ${fmt(r.stored)} (records read ${fmt(r.first.s.totals.read)}, rejected ${r.first.s.totals.rejected}); second import: unchanged ${fmt(r.second.s.totals.unchanged)}, inserted ${r.second.s.totals.inserted}, updated ${r.second.s.totals.updated}`).join('\n')}
${naiveLine}
${rollupLines.join('\n')}`);
// Issue 11 asks for the rate at 5 GB within 10 % of the 1 GB one: each smaller size against the largest.
const b = results[results.length - 1];
for (const a of results.slice(0, -1)) {
  const rate = (r: SizeResult) => r.first.s.totals.read / r.first.seconds;
  const cost = (r: SizeResult) => ((r.first.cpu! + r.first.dbCpu!) / r.first.s.totals.read) * 1e6;
  console.log(
    `  scale ${mbOf(a.bytes)} -> ${mbOf(b.bytes)}: records/s ${((rate(b) / rate(a)) * 100).toFixed(0)} %, CPU-s per million records ${cost(a).toFixed(1)} -> ${cost(b).toFixed(1)}, peak RSS ${a.first.peakRssMb.toFixed(0)} -> ${b.first.peakRssMb.toFixed(0)} MB`,
  );
}

for (const f of generated) if (!flag('keep-files')) rmSync(f, { force: true });
