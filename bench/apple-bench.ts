/**
 * node --import tsx bench/apple-bench.ts [--size 300MB] [--profile] [--database-url postgres://...] [--dir /tmp/healthexport-bench] [--keep]
 *
 * Not a test: generates a synthetic Apple Health export (export.xml of --size, plus its
 * workout-routes/*.gpx; examples/apple/generate.ts), imports the unzipped folder with the built
 * CLI (`npm run build` first) into a fresh database, twice (the second run finds every row
 * already there), and prints records/s, MB/s of export.xml, CPU and the peak RSS of each run,
 * against psql \copy of the rows the first import stored (same ceiling as the HAE benchmark).
 * The database is dropped afterwards unless --keep. bench/import-bench.ts runs this too
 * (with --apple-size).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAppleExport, type AppleGenerateResult } from '../examples/apple/generate.js';
import { parseSize } from '../examples/generate.js';
import { importOnce, type Measured } from './measure.js';
import { adminUrl as adminUrlArg, arg, benchDbName, copyCeiling, dropDatabase, freshDatabase, rowCounts } from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/healthexport.js');

export interface AppleBenchOptions {
  size: number;
  adminUrl: string;
  work: string;
  profile: boolean;
  functions?: boolean;
  keep?: boolean;
  /** Database name (dropped and created); its \copy ceiling uses `${dbName}_copy`. */
  dbName: string;
}

async function makeExport(size: number, work: string): Promise<AppleGenerateResult & { dir: string }> {
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

export async function appleBench(o: AppleBenchOptions): Promise<void> {
  const DB = o.dbName;
  if (!existsSync(path.join(root, 'dist/apple/reader.js')) || !existsSync(path.join(root, 'dist/import/detect.js'))) {
    throw new Error('apple-bench: the built CLI has no Apple reader yet: run `npm run build` first');
  }
  const gen = await makeExport(o.size, o.work);
  const folder = path.join(gen.dir, 'apple_health_export');
  const url = await freshDatabase(o.adminUrl, DB);
  const run = (label: string) =>
    importOnce({ bin, input: folder, url, adminUrl: o.adminUrl, dbName: DB, label, profile: o.profile, functions: o.functions, work: o.work });
  try {
    const first = await run('Apple first import');
    const second = await run('Apple second import');
    const stored = await rowCounts(url);
    const ceiling = await copyCeiling(o.adminUrl, url, `${DB}_copy`, o.work);
    const mb = gen.xmlBytes / 1e6;
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const rc = ceiling.rows / ceiling.seconds;
    const line = (label: string, r: Measured, extra: string) =>
      `  ${label}  ${r.seconds.toFixed(1)} s  ${fmt(r.s.totals.read / r.seconds)} records/s  ${(mb / r.seconds).toFixed(1)} MB/s  peak RSS ${r.peakRssMb.toFixed(0)} MB  CPU node+pg ${r.cpu!.toFixed(0)}+${r.dbCpu!.toFixed(0)} s  status ${r.s.status}  ${extra}`;
    if (first.profileText) console.log(`\n${first.profileText}\n\n${second.profileText}`);
    console.log(`
healthexport Apple Health export import (${new Date().toISOString().slice(0, 10)}: export.xml ${mb.toFixed(0)} MB, ${fmt(gen.days)} days, ${fmt(gen.totalRecords)} records incl. ${fmt(gen.routePoints)} route points in ${gen.routes} GPX files)
${line('first import ', first, `inserted ${fmt(first.s.totals.inserted)} rejected ${first.s.totals.rejected}`)}
${line('second import', second, `unchanged ${fmt(second.s.totals.unchanged)} inserted ${second.s.totals.inserted} updated ${second.s.totals.updated}`)}
  psql \\copy     ${ceiling.seconds.toFixed(1)} s  ${fmt(rc)} rows/s  CPU psql+pg ${ceiling.cpu.toFixed(0)}+${ceiling.dbCpu.toFixed(0)} s (same rows, text files, partitions made beforehand)
  ratios         first/\\copy ${((first.s.totals.read / first.seconds) / rc).toFixed(2)}x   second/first speed ${(first.seconds / second.seconds).toFixed(2)}x
  rows stored    ${fmt(stored)} (records read ${fmt(first.s.totals.read)}; generated ${fmt(gen.totalRecords)})
`);
  } finally {
    if (!o.keep) await dropDatabase(o.adminUrl, DB);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await appleBench({
    size: parseSize(arg('size', '300MB')),
    adminUrl: adminUrlArg(),
    work: arg('dir', '/tmp/healthexport-bench'),
    profile: process.argv.includes('--profile'),
    functions: process.argv.includes('--functions'),
    keep: process.argv.includes('--keep'),
    dbName: benchDbName('apple'),
  });
}
