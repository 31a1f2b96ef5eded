/**
 * `npm run test:mutate [-- ID ...]`: plants each bug of tests/tools/mutants.ts in turn (one-line
 * source edits found by snippet), rebuilds dist/ when a CLI test will run the binary, runs the
 * bug's test files, restores the source, and prints per bug whether the tests failed (killed)
 * or still passed (survived). The sources are restored whatever happens: after each bug, on
 * Ctrl-C / SIGTERM, and at the next start if a run was killed outright (.mutate-backup.json).
 * Edits sources: run it only in a worktree nobody else is building from. Not part of `npm test`.
 * Exit code: 0 when every bug was killed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MUTANTS, mutantProblems, type Mutant } from './mutants.js';

const root = path.resolve(import.meta.dirname, '../..');
const BACKUP = path.join(root, '.mutate-backup.json');
/** A bug whose tests run longer than this is counted killed (a hang is a failure too). */
const TIMEOUT_MS = 15 * 60_000;

let planted: { file: string; original: string } | null = null;
let child: ChildProcess | null = null;

function restore(): void {
  if (!planted) return;
  writeFileSync(path.join(root, planted.file), planted.original);
  rmSync(BACKUP, { force: true });
  planted = null;
}

/** A run killed with SIGKILL left a backup: put that source back before anything else. */
function restoreLeftover(): void {
  if (!existsSync(BACKUP)) return;
  const b = JSON.parse(readFileSync(BACKUP, 'utf8')) as { file: string; original: string };
  writeFileSync(path.join(root, b.file), b.original);
  rmSync(BACKUP);
  console.log(`restored ${b.file} left mutated by an earlier run`);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    child?.kill('SIGTERM');
    restore();
    console.error(`\n${sig}: source restored`);
    process.exit(130);
  });
}
process.on('exit', restore);

/** Every snippet must occur exactly once; otherwise nothing is planted. */
function check(mutants: Mutant[]): void {
  const problems = mutantProblems(mutants, root);
  if (problems.length) {
    console.error(`test:mutate: the mutant list no longer matches the source:\n  ${problems.join('\n  ')}`);
    process.exit(2);
  }
}

function build(): void {
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, encoding: 'utf8' });
  // A bug that does not compile is not a bug the tests could miss; say so rather than count it.
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}

function runTests(files: string[]): Promise<{ passed: boolean; timedOut: boolean; seconds: number; firstFailure: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    let out = '';
    child = spawn(path.join(root, 'node_modules/.bin/vitest'), ['run', '--bail=1', ...files], { cwd: root, env: process.env });
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    const timer = setTimeout(() => child?.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      child = null;
      // eslint-disable-next-line no-control-regex
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const firstFailure = plain.split('\n').find((l) => /^\s*(FAIL|×)/.test(l))?.trim() ?? '';
      resolve({ passed: code === 0, timedOut: signal === 'SIGKILL', seconds: Math.round((Date.now() - started) / 1000), firstFailure });
    });
  });
}

const needsBuild = (files: string[]) => files.some((f) => f.startsWith('tests/cli/'));

async function main(): Promise<number> {
  restoreLeftover();
  const only = process.argv.slice(2);
  const mutants = only.length ? MUTANTS.filter((m) => only.includes(m.id)) : MUTANTS;
  if (only.length && mutants.length !== only.length) {
    console.error(`test:mutate: unknown id among ${only.join(', ')}`);
    return 2;
  }
  check(mutants);

  // The same files must pass unmutated, or a "kill" would prove nothing.
  const all = [...new Set(mutants.flatMap((m) => m.tests))].sort();
  console.log(`baseline: ${all.length} test files on the unmutated source`);
  if (needsBuild(all)) build();
  const base = await runTests(all);
  if (!base.passed) {
    console.error(`test:mutate: the tests fail without any planted bug (${base.firstFailure}); fix that first`);
    return 2;
  }

  const rows: { m: Mutant; result: string; seconds: number; detail: string }[] = [];
  for (const m of mutants) {
    const file = path.join(root, m.file);
    const original = readFileSync(file, 'utf8');
    writeFileSync(BACKUP, JSON.stringify({ file: m.file, original }));
    planted = { file: m.file, original };
    writeFileSync(file, original.replace(m.find, () => m.replace));
    let result: string;
    let detail = '';
    let seconds = 0;
    try {
      if (needsBuild(m.tests)) build();
      const r = await runTests(m.tests);
      seconds = r.seconds;
      result = r.passed ? 'SURVIVED' : 'killed';
      detail = r.timedOut ? 'timed out' : r.firstFailure;
    } catch (err) {
      result = 'ERROR';
      detail = (err as Error).message.split('\n').slice(0, 3).join(' ');
    } finally {
      restore();
    }
    rows.push({ m, result, seconds, detail });
    console.log(`${result.padEnd(8)} ${m.id.padEnd(34)} ${String(seconds).padStart(4)} s  ${m.what}${result === 'killed' ? '' : `  [${detail}]`}`);
  }
  if (needsBuild(mutants.flatMap((m) => m.tests))) build(); // leave dist/ built from the real source

  const killed = rows.filter((r) => r.result === 'killed').length;
  console.log(`\n| bug | behaviour | result |\n| --- | --- | --- |`);
  for (const r of rows) console.log(`| \`${r.m.id}\` | ${r.m.what} | ${r.result} |`);
  console.log(`\n${killed}/${rows.length} planted bugs killed`);
  return killed === rows.length ? 0 : 1;
}

process.exitCode = await main();
