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
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAppleExport, type AppleGenerateResult } from '../examples/apple/generate.js';
import { parseSize } from '../examples/generate.js';
import { adminUrl as adminUrlArg, arg, dropDatabase as drop, freshDatabase as fresh, rowCounts, timed as timedCmd } from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/healthexport.js');

const size = parseSize(arg('size', '1GB'));
const adminUrl = adminUrlArg();
const work = arg('dir', '/tmp/healthexport-bench');
const keep = process.argv.includes('--keep');
const DB = 'healthexport_bench_apple';

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

const freshDatabase = () => fresh(adminUrl, DB);
const dropDatabase = () => drop(adminUrl, DB);
const timed = (args: string[], env: Record<string, string>) => timedCmd(process.execPath, args, env);

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
