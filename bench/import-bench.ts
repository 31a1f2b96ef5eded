/**
 * npm run bench [-- --size 1GB] [--database-url postgres://...] [--naive-size 200MB]
 *
 * Not a test: prints throughput and memory of `healthexport import` on a synthetic export,
 * against the ceiling (psql \copy of the same rows from text files into the same partitioned
 * tables) and a naive baseline (JSON.parse of the whole file + multi-row INSERT).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateExport, parseSize } from '../examples/generate.js';
import { adminUrl as adminUrlArg, arg, DATA_TABLES as TABLES, freshDatabase as fresh, rowCounts, timed } from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/healthexport.js');

const size = parseSize(arg('size', '1GB'));
const naiveSize = parseSize(arg('naive-size', '200MB'));
const adminUrl = adminUrlArg();
const work = arg('dir', '/tmp/healthexport-bench');
mkdirSync(work, { recursive: true });

const freshDatabase = (name: string) => fresh(adminUrl, name);

async function makeExport(bytes: number, file: string) {
  const meta = `${file}.meta.json`;
  if (existsSync(file) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8'));
    if (m.requested === bytes) return m;
  }
  const t = Date.now();
  const r = await generateExport({ sizeBytes: bytes, out: file, seed: 42 });
  const m = { requested: bytes, ...r };
  await import('node:fs/promises').then((fs) => fs.writeFile(meta, JSON.stringify(m)));
  console.log(`generated ${file}: ${(r.bytes / 1e6).toFixed(0)} MB, ${r.totalRecords.toLocaleString()} records in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return m;
}

/** Creates in `toUrl` the month partitions `fromUrl` has, so the ceiling measures COPY alone. */
async function copyPartitions(fromUrl: string, toUrl: string): Promise<void> {
  const from = new pg.Pool({ connectionString: fromUrl });
  const to = new pg.Pool({ connectionString: toUrl });
  const { rows } = await from.query(
    `SELECT t.table_name, min(c.relname) AS lo, max(c.relname) AS hi FROM healthexport_partitioned_tables t
       JOIN pg_inherits i ON i.inhparent = t.table_name::regclass JOIN pg_class c ON c.oid = i.inhrelid
      GROUP BY t.table_name`,
  );
  const month = (rel: string) => rel.replace(/.*_p(\d{4})(\d{2})$/, '$1-$2-01');
  for (const r of rows) {
    await to.query('SELECT healthexport_create_month_partitions($1, $2::date, $3::date)', [r.table_name, month(r.lo), month(r.hi)]);
  }
  await from.end();
  await to.end();
}

async function copyCeiling(fromUrl: string): Promise<{ seconds: number; rows: number }> {
  let cols: Record<string, string> = {};
  // Dump the imported rows to text files, then time psql \copy of them into fresh tables.
  const dump = path.join(work, 'copy');
  rmSync(dump, { recursive: true, force: true });
  mkdirSync(dump);
  const pool = new pg.Pool({ connectionString: fromUrl });
  cols = {};
  for (const t of TABLES) {
    const { rows } = await pool.query(
      `SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) AS c FROM information_schema.columns
        WHERE table_name = $1 AND is_generated = 'NEVER'`,
      [t],
    );
    cols[t] = rows[0].c;
  }
  await pool.end();
  for (const t of TABLES) {
    const r = spawnSync('psql', [fromUrl, '-qc', `\\copy (SELECT ${cols[t]} FROM ${t}) TO '${dump}/${t}.tsv'`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`dump of ${t} failed`);
  }
  const url = await freshDatabase('healthexport_bench_copy');
  await copyPartitions(fromUrl, url);
  const t = process.hrtime.bigint();
  for (const table of TABLES) {
    const r = spawnSync('psql', [url, '-qc', `\\copy ${table} (${cols[table]}) FROM '${dump}/${table}.tsv'`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`\\copy into ${table} failed`);
  }
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { seconds, rows: await rowCounts(url) };
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

const file = path.join(work, `export-${size}.json`);
const meta = await makeExport(size, file);
const mb = statSync(file).size / 1e6;
const url = await freshDatabase('healthexport_bench');

const first = await timed(bin, ['import', file, '--json', '--user', 'bench'], { DATABASE_URL: url });
const s1 = JSON.parse(first.stdout);
const second = await timed(bin, ['import', file, '--json', '--user', 'bench'], { DATABASE_URL: url });
const s2 = JSON.parse(second.stdout);
const stored = await rowCounts(url);
const ceiling = await copyCeiling(url);

const naiveFile = path.join(work, `export-${naiveSize}.json`);
await makeExport(naiveSize, naiveFile);
const naiveUrl = await freshDatabase('healthexport_bench_naive');
await copyPartitions(url, naiveUrl);
const naive = await naiveLoad(naiveFile, naiveUrl);
// V8 cannot hold a string over ~512 MB, so the naive loader cannot read the big file at all.
const naiveBig = size > 5e8 ? 'cannot run: the file is larger than the biggest string V8 can hold (JSON.parse needs it whole)' : null;

const rate = (rows: number, s: number) => rows / s;
const r1 = rate(s1.totals.read, first.seconds);
const rCeil = rate(ceiling.rows, ceiling.seconds);
const rNaive = rate(naive.rows, naive.seconds);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`
healthexport import benchmark (${new Date().toISOString().slice(0, 10)}, ${meta.totalRecords.toLocaleString()} records, ${mb.toFixed(0)} MB)
  first import   ${first.seconds.toFixed(1)} s  ${fmt(r1)} records/s  ${(mb / first.seconds).toFixed(1)} MB/s  peak RSS ${first.peakRssMb.toFixed(0)} MB  status ${s1.status}  inserted ${fmt(s1.totals.inserted)}
  second import  ${second.seconds.toFixed(1)} s  ${fmt(rate(s2.totals.read, second.seconds))} records/s  peak RSS ${second.peakRssMb.toFixed(0)} MB  unchanged ${fmt(s2.totals.unchanged)}  inserted ${s2.totals.inserted}  updated ${s2.totals.updated}
  rows stored    ${fmt(stored)} (records read ${fmt(s1.totals.read)}; rejected ${s1.totals.rejected})
  psql \\copy     ${ceiling.seconds.toFixed(1)} s  ${fmt(rCeil)} rows/s (ceiling: same rows, text files, partitions made beforehand)
  naive loader   ${naive.seconds.toFixed(1)} s  ${fmt(rNaive)} rows/s  peak RSS ${naive.peakRssMb.toFixed(0)} MB on the ${(naiveSize / 1e6).toFixed(0)} MB export${naiveBig ? `; on ${mb.toFixed(0)} MB it ${naiveBig}` : ''}
  ratios         import/\\copy ${(r1 / rCeil).toFixed(2)}x   import/naive ${(r1 / rNaive).toFixed(1)}x   second/first speed ${(first.seconds / second.seconds).toFixed(2)}x
`);

// The Apple Health export.xml path (issue 5) with the same --size, in the same run.
if (!process.argv.includes('--hae-only')) await import('./apple-bench.js');
