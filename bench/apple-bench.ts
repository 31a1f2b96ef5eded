/**
 * node --import tsx bench/apple-bench.ts [--size 300MB] [--repeat 3] [--profile] [--database-url postgres://...] [--dir /tmp/healthexport-bench] [--keep]
 *
 * Not a test: generates a synthetic Apple Health export (export.xml of --size, plus its
 * workout-routes/*.gpx; examples/apple/generate.ts), imports the unzipped folder with the built
 * CLI (`npm run build` first) into a fresh database, twice (the second run finds every row
 * already there), and prints records/s, MB/s of export.xml, CPU and the peak RSS of each run,
 * against psql \copy of the rows the first import stored (same ceiling as the HAE benchmark).
 * `--repeat N` (default 3; `npm run bench`'s `--apple-repeat`) runs N alternated rounds of first
 * import and \copy and prints the medians and every round. The database is dropped afterwards
 * unless --keep. bench/import-bench.ts runs this too (with --apple-size).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAppleExport, type AppleGenerateResult } from '../examples/apple/generate.js';
import { parseSize } from '../examples/generate.js';
import { importOnce, type Measured } from './measure.js';
import { adminUrl as adminUrlArg, arg, benchDbName, copyCeiling, dropDatabase, freshDatabase, rowCounts, type CopyCeiling } from './support.js';

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
  /** Rounds of (first import, `\copy`), alternated; the figures printed are their medians. Default 1. */
  repeat?: number;
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
  const repeat = Math.max(1, Math.floor(o.repeat ?? 1));
  let url = await freshDatabase(o.adminUrl, DB);
  const run = (label: string, profile: boolean) =>
    importOnce({ bin, input: folder, url, adminUrl: o.adminUrl, dbName: DB, label, profile, functions: o.functions, work: o.work });
  try {
    // Each round: a first import into a fresh database, then `\copy` of the rows it stored. The
    // machine's speed drifts by 10-40 % within minutes, and a lone `\copy` of these few seconds
    // moved the ratio from 0.49x to 0.78x between runs of the same code (2026-12-01): alternated
    // rounds and the median ratio say more than one pair. The second import runs in round 1.
    const firsts: Measured[] = [];
    const ceilings: CopyCeiling[] = [];
    let second: Measured | null = null;
    let stored = 0;
    for (let round = 0; round < repeat; round++) {
      if (round > 0) url = await freshDatabase(o.adminUrl, DB);
      firsts.push(await run('Apple first import', o.profile && round === 0));
      if (round === 0) {
        second = await run('Apple second import', o.profile);
        stored = await rowCounts(url);
      }
      ceilings.push(await copyCeiling(o.adminUrl, url, `${DB}_copy`, o.work));
    }
    const mb = gen.xmlBytes / 1e6;
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const ratios = firsts.map((f, i) => f.s.totals.read / f.seconds / (ceilings[i].rows / ceilings[i].seconds));
    const median = <T>(xs: T[], key: (x: T) => number): T => [...xs].sort((a, b) => key(a) - key(b))[(xs.length - 1) >> 1];
    const first = median(firsts, (f) => f.seconds);
    const ceiling = median(ceilings, (c) => c.seconds);
    const rc = ceiling.rows / ceiling.seconds;
    const runs = (xs: number[]) => (xs.length > 1 ? `  (rounds: ${xs.map((x) => x.toFixed(1)).join(' / ')} s)` : '');
    const line = (label: string, r: Measured, extra: string) =>
      `  ${label}  ${r.seconds.toFixed(1)} s  ${fmt(r.s.totals.read / r.seconds)} records/s  ${(mb / r.seconds).toFixed(1)} MB/s  peak RSS ${r.peakRssMb.toFixed(0)} MB  CPU node+pg ${r.cpu!.toFixed(0)}+${r.dbCpu!.toFixed(0)} s  status ${r.s.status}  ${extra}`;
    if (firsts[0].profileText) console.log(`\n${firsts[0].profileText}\n\n${second!.profileText}`);
    const ratio =
      repeat > 1
        ? `${median(ratios, (x) => x).toFixed(2)}x (median of ${repeat} alternated rounds: ${ratios.map((x) => x.toFixed(2)).join(' / ')})`
        : `${ratios[0].toFixed(2)}x`;
    const peak = Math.max(...firsts.map((f) => f.peakRssMb));
    console.log(`
healthexport Apple Health export import (${new Date().toISOString().slice(0, 10)}: export.xml ${mb.toFixed(0)} MB, ${fmt(gen.days)} days, ${fmt(gen.totalRecords)} records incl. ${fmt(gen.routePoints)} route points in ${gen.routes} GPX files)
${line('first import ', first, `inserted ${fmt(first.s.totals.inserted)} rejected ${first.s.totals.rejected}`)}${runs(firsts.map((f) => f.seconds))}${repeat > 1 ? `  highest peak RSS ${peak.toFixed(0)} MB` : ''}
${line('second import', second!, `unchanged ${fmt(second!.s.totals.unchanged)} inserted ${second!.s.totals.inserted} updated ${second!.s.totals.updated}`)}
  psql \\copy     ${ceiling.seconds.toFixed(1)} s  ${fmt(rc)} rows/s  CPU psql+pg ${ceiling.cpu.toFixed(0)}+${ceiling.dbCpu.toFixed(0)} s (same rows, text files, partitions made beforehand)${runs(ceilings.map((c) => c.seconds))}
  WAL written    first import ${((first.walBytes ?? NaN) / 1e9).toFixed(2)} GB, second ${((second!.walBytes ?? NaN) / 1e9).toFixed(2)} GB, \\copy ${(ceiling.walBytes / 1e9).toFixed(2)} GB
  ratios         first/\\copy ${ratio}   second/first speed ${(firsts[0].seconds / second!.seconds).toFixed(2)}x
  rows stored    ${fmt(stored)} (records read ${fmt(first.s.totals.read)}; generated ${fmt(gen.totalRecords)})${firsts.every((f) => f.s.totals.read === firsts[0].s.totals.read && f.s.totals.inserted === stored) ? '' : '  (ROUNDS DIFFER: see the lines above)'}
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
    repeat: Number(arg('repeat', '3')),
  });
}
