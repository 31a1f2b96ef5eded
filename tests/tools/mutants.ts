/**
 * The bugs `npm run test:mutate` plants, one at a time. Each is found by its code snippet (not a
 * line number), so the list survives edits elsewhere in the file; a snippet that is missing, or
 * found more than once, stops the run before anything is changed. `tests` are the files run
 * against the planted bug: the suite is meant to fail there (the bug is "killed").
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Mutant {
  id: string;
  /** What behaviour the bug breaks. */
  what: string;
  file: string;
  find: string;
  replace: string;
  tests: string[];
}

const DATES = ['tests/records/dates.test.ts', 'tests/apple/reader.test.ts'];
const LOAD = ['tests/load/writer.test.ts', 'tests/import/outcomes.test.ts'];

export const MUTANTS: Mutant[] = [
  {
    id: 'date-unicode-minus',
    what: 'dates: the Unicode minus sign (U+2212) in an offset is no longer accepted',
    file: 'src/records/dates.ts',
    find: `else if (oc === 45 /* - */ || oc === 0x2212 /* − minus sign */) sign = -1;`,
    replace: `else if (oc === 45 /* - */) sign = -1;`,
    tests: DATES,
  },
  {
    id: 'date-offset-sign',
    what: 'dates: the offset is added instead of subtracted',
    file: 'src/records/dates.ts',
    find: `return sign * (oh * 60 + om) * 60_000;`,
    replace: `return -sign * (oh * 60 + om) * 60_000;`,
    tests: DATES,
  },
  {
    id: 'date-no-offset-guessed',
    what: 'dates: a time without an offset is taken as UTC instead of refused',
    file: 'src/records/dates.ts',
    find: `if (i >= n) return NaN; // no offset: refuse to guess a time zone`,
    replace: `if (i >= n) return 0;`,
    tests: DATES,
  },
  {
    id: 'date-leap-century',
    what: 'dates: 1900-02-29 accepted (every fourth year a leap year)',
    file: 'src/records/dates.ts',
    find: `return (y & 3) === 0 && (y % 100 !== 0 || y % 400 === 0);`,
    replace: `return (y & 3) === 0;`,
    tests: DATES,
  },
  {
    id: 'date-offset-hours-bound',
    what: 'dates: offset hours above 18 accepted',
    file: 'src/records/dates.ts',
    find: `if (oh < 0 || oh > 18) return NaN;`,
    replace: `if (oh < 0 || oh > 23) return NaN;`,
    tests: DATES,
  },
  {
    id: 'batch-dup-swap',
    what: 'outcome: a key repeated inside one file counts updated as unchanged and vice versa',
    file: 'src/load/batch.ts',
    find: `if (this.sameRow(slot, w.lastChunk, w.lastStart, w.lastEnd)) this.dupUnchanged++;`,
    replace: `if (!this.sameRow(slot, w.lastChunk, w.lastStart, w.lastEnd)) this.dupUnchanged++;`,
    tests: LOAD,
  },
  {
    id: 'batch-earlier-wins',
    what: 'outcome: for a key repeated inside one file the earlier value is kept',
    file: 'src/load/batch.ts',
    find: `          this.chunkOf[slot] = w.lastChunk;
          this.startOf[slot] = w.lastStart;
          this.endOf[slot] = w.lastEnd;`,
    replace: `          void slot;`,
    tests: LOAD,
  },
  {
    id: 'writer-inserted-updated-swap',
    what: 'outcome: the staging merge reports its updated rows as inserted',
    file: 'src/load/writer.ts',
    find: `    counts.inserted += r.inserted;`,
    replace: `    counts.inserted += r.updated;`,
    tests: LOAD,
  },
  {
    id: 'writer-unchanged-includes-rejected',
    what: 'outcome: rows the database refused are also counted unchanged',
    file: 'src/load/writer.ts',
    find: `counts.unchanged += rows.length - r.inserted - r.updated - rejects.length;`,
    replace: `counts.unchanged += rows.length - r.inserted - r.updated;`,
    tests: LOAD,
  },
  {
    id: 'status-partial',
    what: 'outcome: a run with rejected records is reported ok (exit 0 instead of 3)',
    file: 'src/import/summary.ts',
    find: `return totals.rejected > 0 ? 'partial' : 'ok';`,
    replace: `return totals.rejected > 1 ? 'partial' : 'ok';`,
    tests: ['tests/import/outcomes.test.ts', 'tests/import/import.test.ts'],
  },
  {
    id: 'bounds-heart-rate',
    what: 'bounds: a heart rate above 300 bpm is accepted',
    file: 'src/hae/map-metric.ts',
    find: `if (n < HEART_RATE_MIN || n > HEART_RATE_MAX) {`,
    replace: `if (n < HEART_RATE_MIN || n > HEART_RATE_MAX * 4) {`,
    tests: ['tests/hae/map.test.ts'],
  },
  {
    id: 'bounds-negative',
    what: 'bounds: a negative step count is accepted',
    file: 'src/hae/map-metric.ts',
    find: `if (q < 0 && !mayBeNegative(metric)) {`,
    replace: `if (q < -1e9 && !mayBeNegative(metric)) {`,
    tests: ['tests/hae/map.test.ts'],
  },
  {
    id: 'bounds-percent',
    what: 'bounds: a percentage above 100 is accepted',
    file: 'src/hae/map-metric.ts',
    find: `if (unit === '%' && q > PERCENT_MAX) {`,
    replace: `if (unit === '%' && q > PERCENT_MAX * 10) {`,
    tests: ['tests/hae/map.test.ts'],
  },
  {
    id: 'stable-id-hae-v1',
    what: 'stable ids: a v1 workout id ignores its end time (two workouts collide)',
    file: 'src/hae/map-workout.ts',
    find: `return 'v1-' + sha1Hex32(name + '|' + start + '|' + end);`,
    replace: `return 'v1-' + sha1Hex32(name + '|' + start);`,
    tests: ['tests/hae/map.test.ts'],
  },
  {
    id: 'stable-id-apple',
    what: 'stable ids: an Apple workout id ignores its activity type',
    file: 'src/apple/map-workout.ts',
    find: "return 'apple-' + sha1Hex32(`${activityType}|${start}|${end}`);",
    replace: "return 'apple-' + sha1Hex32(`${start}|${end}`);",
    tests: ['tests/apple/workout-id.test.ts', 'tests/apple/apple-import.test.ts'],
  },
  {
    id: 'scanner-offset',
    what: 'scanner offsets: a record\'s byte offset is one past its first byte',
    file: 'src/hae/scanner.ts',
    find: `    this.vStartAbs = this.base + i;`,
    replace: `    this.vStartAbs = this.base + i + 1;`,
    tests: ['tests/hae/scanner.test.ts'],
  },
  {
    id: 'scanner-chunk-base',
    what: 'scanner offsets: offsets restart at every chunk',
    file: 'src/hae/scanner.ts',
    find: `    this.base += this.buf.length;`,
    replace: `    this.base += 0;`,
    tests: ['tests/hae/scanner.test.ts'],
  },
  {
    id: 'key-revoked-accepted',
    what: 'key checks: a revoked API key is still accepted',
    file: 'src/auth/api-keys.ts',
    find: `      WHERE k.prefix = $1 AND k.revoked_at IS NULL\`,`,
    replace: `      WHERE k.prefix = $1\`,`,
    tests: ['tests/auth/api-keys.test.ts'],
  },
  {
    id: 'key-wrong-secret',
    what: 'key checks: a wrong secret behind a real prefix is accepted',
    file: 'src/auth/api-keys.ts',
    find: `    if (!(await verifyKeyHash(presented, row.key_hash))) continue;`,
    replace: `    if (!(await verifyKeyHash(presented, row.key_hash)) && false) continue;`,
    tests: ['tests/auth/api-keys.test.ts'],
  },
  {
    id: 'rate-limit-off-by-one',
    what: 'rate limits: one request more than the limit per window is allowed (in process)',
    file: 'src/server/rate-limit.ts',
    find: `const allowed = prev * (1 - elapsed / windowMs) + curr + 1 <= limit;`,
    replace: `const allowed = prev * (1 - elapsed / windowMs) + curr <= limit;`,
    tests: ['tests/server/rate-limit.test.ts'],
  },
  {
    id: 'rate-limit-redis-off-by-one',
    what: 'rate limits: one request more than the limit per window is allowed (Redis)',
    file: 'src/server/rate-limit.ts',
    find: `if prev * weight + curr + 1 > limit then`,
    replace: `if prev * weight + curr > limit then`,
    tests: ['tests/server/rate-limit.test.ts', 'tests/server/serve.test.ts'],
  },
  {
    id: 'partition-month-key',
    what: 'partitions: a record lands in the partition of the month before',
    file: 'src/db/partitions.ts',
    find: `return d.getUTCFullYear() * 12 + d.getUTCMonth() - 1970 * 12;`,
    replace: `return d.getUTCFullYear() * 12 + d.getUTCMonth() - 1970 * 12 - 1;`,
    tests: ['tests/db/partitions.test.ts', 'tests/load/writer.test.ts'],
  },
  {
    id: 'rejects-newest-first',
    what: 'rejects: `rejects list --limit` keeps the oldest instead of the newest',
    file: 'src/load/rejects.ts',
    find: `ORDER BY r.rejected_at DESC, r.id LIMIT $5`,
    replace: `ORDER BY r.rejected_at, r.id LIMIT $5`,
    tests: ['tests/load/rejects.test.ts'],
  },
  {
    id: 'rejects-offset-lost',
    what: 'rejects: the byte offset of a rejected record is not listed',
    file: 'src/load/rejects.ts',
    find: `byteOffset: r.byte_offset === null ? null : Number(r.byte_offset),`,
    replace: `byteOffset: null,`,
    tests: ['tests/load/rejects.test.ts'],
  },
  {
    id: 'cache-failed-import',
    what: 'cache invalidation: a FAILED import leaves stale summaries in the cache',
    file: 'src/import/after-import.ts',
    find: `const failed = summary.status === 'failed';`,
    replace: `const failed = false;`,
    tests: ['tests/import/after-import.test.ts'],
  },
  {
    id: 'cache-latest-kept',
    what: 'cache invalidation: the "latest values" summary survives an import',
    file: 'src/cache/cache.ts',
    find: `if (rest === 'latest') return metrics.length > 0;`,
    replace: `if (rest === 'latest') return false;`,
    tests: ['tests/cache/cache.test.ts', 'tests/import/after-import.test.ts'],
  },
  {
    id: 'date-fraction-digits',
    what: 'dates: the first fractional digit counts tenths of a second as hundredths',
    file: 'src/records/dates.ts',
    find: `if (k === 0) ms += dgt * 100;`,
    replace: `if (k === 0) ms += dgt * 10;`,
    tests: DATES,
  },
  {
    id: 'apple-percent',
    what: 'values: an Apple fraction (SpO2 0.97) is stored as 0.97 %, not 97 %',
    file: 'src/apple/map-record.ts',
    find: `return Number((fraction * 100).toPrecision(12));`,
    replace: `return Number(fraction.toPrecision(12));`,
    tests: ['tests/apple/apple-import.test.ts'],
  },
  {
    id: 'exit-partial',
    what: 'exit codes: an import with rejected records exits 0 instead of 3 (CLI, rebuilt)',
    file: 'src/cli/import.ts',
    find: `if (summaries.some((s) => s.status === 'partial')) return EXIT.partial;`,
    replace: `if (summaries.some((s) => s.status === 'partial')) return EXIT.ok;`,
    tests: ['tests/cli/commands.test.ts'],
  },
  {
    id: 'cache-heart-rate-kept',
    what: 'cache invalidation: an import of heart rates leaves the heart-rate summary cached',
    file: 'src/import/after-import.ts',
    find: `if (changed('heart_rate_metrics')) metrics.add(HEART_RATE);`,
    replace: `if (changed('heart_rate_metrics')) void HEART_RATE;`,
    tests: ['tests/import/after-import.test.ts', 'tests/cache/summary.test.ts'],
  },
  {
    id: 'rollup-day-unit-kept',
    what: 'rollups: a day keeps its row of a unit an update replaced',
    file: 'src/rollups/refresh.ts',
    find: `        AND (t.tz, t.metric, t.starts_at, t.unit) NOT IN (SELECT k.tz, k.metric, k.starts_at, k.unit FROM kept k)`,
    replace: `        AND false AND (t.tz, t.metric, t.starts_at, t.unit) NOT IN (SELECT k.tz, k.metric, k.starts_at, k.unit FROM kept k)`,
    tests: ['tests/rollups/rollups.test.ts'],
  },
  {
    id: 'rollup-quarter-copy-no-fallback',
    what: 'rollups: quarters a failed COPY could not add are dropped instead of upserted',
    file: 'src/rollups/add-quarters.ts',
    find: `if (!(await copyInner(client, userId, rows, inner, ranks))) edge.push(...inner);`,
    replace: `await copyInner(client, userId, rows, inner, ranks);`,
    tests: ['tests/rollups/rollups.test.ts'],
  },
  {
    id: 'reject-child-path-lost',
    what: "rejects: a workout's bad route point is stored with the workout's path, so several collapse into one row",
    file: 'src/hae/map-workout.ts',
    find: "else out.rejects.push(rej('route_point', why, `.route[${i}]`, p));",
    replace: "else out.rejects.push(rej('route_point', why));",
    tests: ['tests/import/hostile-records.test.ts'],
  },
];

/**
 * Why the list cannot be planted as it is: a snippet missing or found more than once, a file or
 * test file gone. Checked by `npm test` too (mutants.test.ts), so an edit that moves a snippet
 * fails there instead of surfacing only when someone runs test:mutate.
 */
export function mutantProblems(mutants: readonly Mutant[], root: string): string[] {
  const problems: string[] = [];
  for (const m of mutants) {
    const file = path.join(root, m.file);
    if (!existsSync(file)) {
      problems.push(`${m.id}: ${m.file} does not exist`);
      continue;
    }
    const n = readFileSync(file, 'utf8').split(m.find).length - 1;
    if (n !== 1) problems.push(`${m.id}: snippet found ${n} times in ${m.file}: ${m.find}`);
    for (const t of m.tests) if (!existsSync(path.join(root, t))) problems.push(`${m.id}: test file ${t} does not exist`);
  }
  return problems;
}
