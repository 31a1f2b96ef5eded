/** One timed `healthexport import` through the CLI for the benchmarks, optionally profiled. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDbProfile, summariseCpuProfile, topFunctions } from './profile.js';
import { timedWithCpu, type Timed } from './support.js';
import { importNodeFlags } from '../bin/import-flags.js';

export interface ImportJson {
  status: string;
  durationMs: number;
  totals: { read: number; inserted: number; updated: number; unchanged: number; rejected: number };
}

const ELD_PRELOAD = fileURLToPath(new URL('./event-loop-delay.mjs', import.meta.url));

export type Measured = Timed & { s: ImportJson; profileText?: string };

export interface ImportRun {
  /** bin/healthexport.js */
  bin: string;
  input: string;
  url: string;
  adminUrl: string;
  dbName: string;
  label: string;
  /** node --cpu-prof of the import and pg_stat_activity sampling (see profile.ts). */
  profile: boolean;
  /** With profile: also the top functions by self time. */
  functions?: boolean;
  work: string;
  /** More arguments for `healthexport import`, e.g. ['--rollups', 'end'] or ['--concurrency', '2']. */
  extraArgs?: string[];
}

/** One import (a capped child included), with CPU and, when profiled, where the time went. */
export async function importOnce(o: ImportRun): Promise<Measured> {
  const profDir = o.profile ? mkdtempSync(path.join(o.work, 'cpuprof-')) : null;
  const args = ['import', o.input, '--json', '--user', 'bench', ...(o.extraArgs ?? [])];
  // --cpu-prof is not allowed in NODE_OPTIONS: when profiling, node runs the bin with it. Under a
  // HEALTHEXPORT_MAX_HEAP_MB cap, with the cap's flags: the bin then imports in-process as its
  // capped child would.
  const cap = Number(process.env.HEALTHEXPORT_MAX_HEAP_MB ?? 0);
  const [cmd, argv] = profDir
    ? [process.execPath, [...(cap > 0 ? importNodeFlags(cap) : []), '--cpu-prof', `--cpu-prof-dir=${profDir}`, '--import', ELD_PRELOAD, o.bin, ...args]]
    : [o.bin, args];
  const env: Record<string, string> = { DATABASE_URL: o.url };
  if (profDir) env.HEALTHEXPORT_BENCH_ELD = path.join(profDir, 'event-loop-delay.json');
  const r = await timedWithCpu(cmd, argv, env, o.adminUrl, o.dbName, o.profile);
  if (r.code !== 0 && r.code !== 3) throw new Error(`${o.label}: import exited ${r.code}: ${r.stdout.slice(0, 500)}`);
  const s = JSON.parse(r.stdout) as ImportJson;
  let profileText: string | undefined;
  if (profDir) {
    profileText = describeProfile(o.label, r, profDir, !!o.functions);
    rmSync(profDir, { recursive: true, force: true });
  }
  return { ...r, s, profileText };
}

function describeProfile(label: string, r: Timed, profDir: string, functions: boolean): string {
  const out: string[] = [
    `  ${label}: where the time went (${r.seconds.toFixed(1)} s wall; the machine's cores ${(((r.busyCores ?? 0) / 2) * 100).toFixed(0)} % busy meanwhile, neighbours included)`,
  ];
  const cpu = summariseCpuProfile(profDir);
  if (cpu) {
    out.push(`    import, node --cpu-prof self time by stage (${(cpu.totalMs / 1000).toFixed(1)} s sampled; process tree CPU ${r.cpu!.toFixed(1)} s):`);
    for (const [st, ms] of [...cpu.stages].sort((a, b) => b[1] - a[1])) {
      if (ms / cpu.totalMs < 0.005) continue;
      out.push(`      ${st.padEnd(58)} ${(ms / 1000).toFixed(1).padStart(7)} s  ${((100 * ms) / cpu.totalMs).toFixed(0).padStart(3)} %`);
    }
    if (functions) {
      out.push('    top functions by self time:');
      for (const f of topFunctions(cpu.file, 20)) out.push(`      ${(f.ms / 1000).toFixed(2).padStart(6)} s  ${f.fn || '(anonymous)'}  ${f.url}`);
    }
  }
  const eld = path.join(profDir, 'event-loop-delay.json');
  if (existsSync(eld)) {
    const d = JSON.parse(readFileSync(eld, 'utf8')) as Record<string, number>;
    const f = (k: string) => `${k} ${d[k].toFixed(1)}`;
    out.push(`    node event loop delay (how long a reply from PostgreSQL could wait), ms: ${['mean', 'p50', 'p90', 'p99', 'max'].map(f).join(', ')}`);
  }
  out.push(`    PostgreSQL backends CPU ${r.dbCpu!.toFixed(1)} s; WAL writer/checkpointer/bgwriter ${r.auxCpu!.toFixed(1)} s`);
  if (r.db) out.push(formatDbProfile(r.db, r.seconds));
  return out.join('\n');
}
