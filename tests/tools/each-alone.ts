/**
 * Proves every test can run alone: lists the suite (or the files given), then runs each test by
 * itself (`vitest run FILE -t "^FULL NAME$"`) and reports those that fail or do not run exactly
 * once. Slow (one vitest start per test); not part of `npm test`.
 *
 *   TEST_DATABASE_URL=... TEST_REDIS_URL=... node --import tsx tests/tools/each-alone.ts [FILE ...]
 *
 * Exit code: 0 when every test passed alone, 1 otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const vitest = path.join(root, 'node_modules/.bin/vitest');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'he-alone-'));

interface Listed {
  name: string;
  file: string;
}

function vitestRun(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(vitest, args, { cwd: root, encoding: 'utf8', env: process.env, maxBuffer: 64 << 20 });
  // vitest could not even start (node_modules replaced under us, ...): stop, the rest would fail too.
  if (r.error) throw new Error(`cannot run ${vitest}: ${r.error.message}`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** vitest matches -t against the names joined by single spaces (list shows them joined by " > "). */
export function namePattern(listed: string): string {
  const full = listed.split(' > ').join(' ');
  return `^${full.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

function main(): number {
  const listFile = path.join(tmp, 'list.json');
  const listed = vitestRun(['list', `--json=${listFile}`, ...process.argv.slice(2)]);
  if (listed.code !== 0) {
    console.error(listed.out);
    return 1;
  }
  // In the order the arguments name them (vitest lists by its own order).
  const args = process.argv.slice(2);
  const rank = (t: Listed) => {
    const i = args.findIndex((a) => path.relative(root, t.file).startsWith(a.replace(/^\.\//, '')));
    return i < 0 ? args.length : i;
  };
  const tests = (JSON.parse(readFileSync(listFile, 'utf8')) as Listed[]).sort((a, b) => rank(a) - rank(b));
  const failures: { test: string; why: string }[] = [];
  const started = Date.now();
  tests.forEach((t, i) => {
    const file = path.relative(root, t.file);
    const report = path.join(tmp, `r${i}.json`);
    const r = vitestRun(['run', file, '-t', namePattern(t.name), '--reporter=json', `--outputFile=${report}`]);
    let why = '';
    try {
      const j = JSON.parse(readFileSync(report, 'utf8'));
      if (j.numPassedTests !== 1 || j.numFailedTests !== 0) why = `${j.numPassedTests} passed, ${j.numFailedTests} failed`;
      for (const f of j.testResults ?? []) {
        for (const a of f.assertionResults ?? []) if (a.status === 'failed') why += `\n    ${(a.failureMessages ?? []).join(' ').split('\n')[0]}`;
        if (f.status === 'failed' && f.message) why += `\n    ${f.message.split('\n')[0]}`;
      }
    } catch {
      why = `no report (exit ${r.code}): ${r.out.split('\n').slice(-5).join(' | ')}`;
    }
    if (r.code !== 0 && !why) why = `exit ${r.code}`;
    const mark = why ? 'FAIL' : 'ok  ';
    console.log(`${mark} [${i + 1}/${tests.length}] ${file} > ${t.name}${why ? `\n    ${why.trim()}` : ''}`);
    if (why) failures.push({ test: `${file} > ${t.name}`, why });
  });
  console.log(`\n${tests.length - failures.length}/${tests.length} tests pass alone (${Math.round((Date.now() - started) / 1000)} s)`);
  for (const f of failures) console.log(`  FAIL ${f.test}`);
  return failures.length ? 1 : 0;
}

try {
  process.exitCode = main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
