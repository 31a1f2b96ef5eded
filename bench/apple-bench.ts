/**
 * node --import tsx bench/apple-bench.ts [--size 1GB] [--database-url postgres://...] [--dir /tmp/healthexport-bench] [--keep]
 *
 * Not a test: generates a synthetic Apple Health export (export.xml of --size, plus its
 * workout-routes/*.gpx; examples/apple/generate.ts), imports the unzipped folder with the built
 * CLI (`npm run build` first) into a fresh database, twice (the second run finds every row
 * already there), and prints records/s, MB/s of export.xml and the peak RSS of each run (VmHWM
 * sampled from /proc). The database is dropped afterwards unless --keep.
 *
 * Arguments have the same names as bench/import-bench.ts, so that one can run this one too.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate } from '../src/db/migrations.js';
import { generateAppleExport, type AppleGenerateResult } from '../examples/apple/generate.js';
import { parseSize } from '../examples/generate.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/healthexport.js');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const size = parseSize(arg('size', '1GB'));
const adminUrl = arg('database-url', process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const work = arg('dir', '/tmp/healthexport-bench');
const keep = process.argv.includes('--keep');
const DB = 'healthexport_bench_apple';
const TABLES = [
  'heart_rate_metrics', 'blood_pressure_metrics', 'sleep_metrics', 'sleep_stages', 'activity_metrics', 'workouts',
  'workout_routes', 'workout_heart_rate', 'workout_series', 'health_events',
];

if (!existsSync(path.join(root, 'dist/apple/reader.js')) || !existsSync(path.join(root, 'dist/import/detect.js'))) {
  console.error('apple-bench: the built CLI has no Apple reader yet: run `npm run build` first');
  process.exit(1);
}

async function makeExport(): Promise<AppleGenerateResult & { dir: string }> {
  const dir = path.join(work, `apple-${size}`);
  const meta = path.join(dir, 'meta.json');
  if (existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8'));
    if (m.requested === size && existsSync(m.xml)) return { ...m, dir };
  }
  mkdirSync(dir, { recursive: true });
  const t = Date.now();
  const r = await generateAppleExport({ sizeBytes: size, dir, seed: 42 });
  writeFileSync(meta, JSON.stringify({ requested: size, ...r }));
  console.log(
    `generated ${r.xml}: ${(r.xmlBytes / 1e6).toFixed(0)} MB, ${r.xmlRecords.toLocaleString('en-US')} elements + ${r.routes} GPX routes ` +
      `(${r.routePoints.toLocaleString('en-US')} points) in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  return { ...r, dir };
}

async function freshDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${DB}`;
  const pool = new pg.Pool({ connectionString: u.toString() });
  await migrate(pool);
  await pool.end();
  return u.toString();
}

async function dropDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.end();
}

/** Runs a command, sampling its peak RSS (VmHWM) from /proc. */
function timed(args: string[], env: Record<string, string>): Promise<{ seconds: number; peakRssMb: number; stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let peak = 0;
    child.stdout.on('data', (d) => (stdout += d));
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch {
        /* exited */
      }
    };
    const timer = setInterval(sample, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ seconds: Number(process.hrtime.bigint() - t) / 1e9, peakRssMb: peak, stdout, code });
    });
  });
}

async function rowCounts(url: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: url });
  let n = 0;
  for (const t of TABLES) n += Number((await pool.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
  await pool.end();
  return n;
}

const gen = await makeExport();
const folder = path.join(gen.dir, 'apple_health_export');
const url = await freshDatabase();
const run = async () => {
  const r = await timed([bin, 'import', folder, '--json', '--user', 'bench'], { DATABASE_URL: url });
  if (r.code !== 0 && r.code !== 3) throw new Error(`import exited ${r.code}: ${r.stdout.slice(0, 500)}`);
  return { ...r, s: JSON.parse(r.stdout) };
};
try {
  const first = await run();
  const second = await run();
  const stored = await rowCounts(url);
  const mb = gen.xmlBytes / 1e6;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const line = (label: string, r: typeof first, extra: string) =>
    `  ${label}  ${r.seconds.toFixed(1)} s  ${fmt(r.s.totals.read / r.seconds)} records/s  ${(mb / r.seconds).toFixed(1)} MB/s  peak RSS ${r.peakRssMb.toFixed(0)} MB  status ${r.s.status}  ${extra}`;
  console.log(`
healthexport Apple Health export import (${new Date().toISOString().slice(0, 10)}: export.xml ${mb.toFixed(0)} MB, ${fmt(gen.days)} days, ${fmt(gen.totalRecords)} records incl. ${fmt(gen.routePoints)} route points in ${gen.routes} GPX files)
${line('first import ', first, `inserted ${fmt(first.s.totals.inserted)} rejected ${first.s.totals.rejected}`)}
${line('second import', second, `unchanged ${fmt(second.s.totals.unchanged)} inserted ${second.s.totals.inserted} updated ${second.s.totals.updated}`)}
  rows stored    ${fmt(stored)} (records read ${fmt(first.s.totals.read)}; generated ${fmt(gen.totalRecords)})
`);
} finally {
  if (!keep) await dropDatabase();
}
