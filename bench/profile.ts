/**
 * Where an import's time goes, measured from outside the importer (nothing in src/ changes):
 *
 * - CPU-seconds of the import process tree: the bench's own cutime+cstime from /proc/self/stat
 *   before and after (a child's CPU, and its children's, is added there when it is reaped).
 * - CPU-seconds of the PostgreSQL backends serving the bench database, and of the WAL writer,
 *   checkpointer and background writer (shared with anything else on the server): utime+stime
 *   from /proc/<pid>/stat, sampled.
 * - What each backend is doing, sampled from pg_stat_activity every `intervalMs`: the statement
 *   kind (COPY direct / COPY staging / merge steps / partition checks / commit) and the wait
 *   event. "COPY waiting for client" (wait event ClientRead while a COPY is active) is the
 *   backend starved by the importer; "idle" is a connection the importer is not using.
 * - The machine: busy fraction of both cores from /proc/stat (neighbours included).
 * - With `cpuProfileDir`: node --cpu-prof of the import, summarised by stage (file and
 *   function of each sample: scanner -> scan, JSON.parse -> parse, map* -> map, tables/copy-text/
 *   batch -> render, pg/pg-copy-streams/streams -> COPY client, GC).
 *
 * Sampling pg_stat_activity costs the sampler a query per tick; profile runs are for finding
 * where time goes, the timed runs of the benchmark use only the cheap /proc counters.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const TICK = 100; // USER_HZ on Linux

function procCpu(pid: number | 'self', children = false): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may contain spaces) start after the last ')'.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): utime is field 14 -> f[11], stime f[12], cutime f[13], cstime f[14].
  const own = Number(f[11]) + Number(f[12]);
  return (children ? Number(f[13]) + Number(f[14]) : own) / TICK;
}

/** CPU-seconds of every child this process has reaped so far (their own children included). */
export const reapedChildrenCpu = (): number => procCpu('self', true);

function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + cpu[4]; // idle + iowait
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** What a backend is doing, from its query text and state. */
export function activityOf(state: string | null, query: string, waitType: string | null, wait: string | null): string {
  if (state === 'idle') return 'idle (connection unused)';
  if (state?.startsWith('idle in transaction')) return 'idle in transaction (client busy)';
  const q = query.trimStart();
  let what: string;
  if (/^COPY he_stage_/i.test(q)) what = 'COPY staging';
  else if (/^COPY /i.test(q)) what = 'COPY direct';
  else if (/^DELETE FROM he_stage_/i.test(q)) what = 'merge: drop unchanged';
  else if (/^INSERT INTO \w+ \(.*\n?\s*SELECT .* FROM he_stage_/is.test(q)) what = 'merge: insert new';
  else if (/^UPDATE /i.test(q) && /he_stage_/.test(q)) what = 'merge: update changed';
  else if (/healthexport_create_month_partitions/.test(q)) what = 'partition create/check';
  else if (/EXISTS \(SELECT 1 FROM \w+_p\d{6} WHERE user_id/.test(q)) what = 'month probe (fresh?)';
  else if (/^(COMMIT|BEGIN|ROLLBACK)/i.test(q)) what = q.slice(0, 6).toUpperCase().trim();
  else if (/^CREATE TEMP TABLE/i.test(q)) what = 'create staging table';
  else if (/^SET LOCAL/i.test(q)) what = 'SET LOCAL';
  else what = `other: ${q.slice(0, 40).replace(/\s+/g, ' ')}`;
  if (what.startsWith('COPY') && wait === 'ClientRead') return `${what}: waiting for client data`;
  if (waitType && waitType !== 'CPU') return `${what} [${waitType}:${wait}]`;
  return what;
}

export interface DbProfile {
  samples: number;
  /** activity -> backend-samples */
  activity: Map<string, number>;
  /** number of backends working (active, not waiting for the client) -> samples */
  working: Map<number, number>;
  backendCpu: number;
  auxCpu: number;
  backends: number;
}

export interface Sampler {
  stop(): Promise<DbProfile>;
}

/**
 * Samples the backends connected to `dbName` (and PostgreSQL's auxiliary processes) until
 * stopped. With `activity` false only the backends' pids are looked up, for their CPU.
 */
export async function startDbSampler(adminUrl: string, dbName: string, opts: { intervalMs?: number; activity?: boolean } = {}): Promise<Sampler> {
  const interval = opts.intervalMs ?? 50;
  const wantActivity = opts.activity ?? true;
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'healthexport-bench-sampler' });
  await client.connect();
  const aux = (
    await client.query(
      `SELECT pid FROM pg_stat_activity WHERE backend_type IN ('walwriter', 'checkpointer', 'background writer', 'autovacuum launcher')`,
    )
  ).rows.map((r) => r.pid as number);
  const auxStart = new Map(aux.map((p) => [p, safeCpu(p)]));
  const cpuSeen = new Map<number, number>();
  const p: DbProfile = { samples: 0, activity: new Map(), working: new Map(), backendCpu: 0, auxCpu: 0, backends: 0 };
  let pids: number[] = [];
  let stopped = false;
  const add = <K>(m: Map<K, number>, k: K, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

  const tick = async () => {
    if (wantActivity) {
      const { rows } = await client.query(
        `SELECT pid, state, wait_event_type, wait_event, query,
                CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END AS blockers
           FROM pg_stat_activity
          WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        [dbName],
      );
      p.samples++;
      let working = 0;
      const plain = new Map(rows.map((r) => [r.pid, activityOf(r.state, r.query ?? '', null, null)]));
      for (const r of rows) {
        let a = activityOf(r.state, r.query ?? '', r.wait_event_type, r.wait_event);
        // A lock wait names what holds the lock (another of the import's own connections?).
        if (r.blockers?.length) a += ` behind ${[...new Set((r.blockers as number[]).map((b) => plain.get(b) ?? 'another session'))].join(' + ')}`;
        add(p.activity, a);
        if (r.state === 'active' && !a.includes('waiting for client') && !a.includes('[Lock')) working++;
      }
      add(p.working, working);
      pids = rows.map((r) => r.pid);
    } else {
      const { rows } = await client.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`, [dbName]);
      pids = rows.map((r) => r.pid);
    }
    for (const pid of pids) {
      const c = safeCpu(pid);
      if (c !== null) cpuSeen.set(pid, Math.max(cpuSeen.get(pid) ?? 0, c));
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const t = Date.now();
      await tick().catch(() => {});
      await new Promise((r) => setTimeout(r, Math.max(0, interval - (Date.now() - t))));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await client.end();
      // Backends started before the sampler saw them count from 0: connections are opened by the
      // import itself, so their whole CPU belongs to it.
      for (const c of cpuSeen.values()) p.backendCpu += c;
      p.backends = cpuSeen.size;
      for (const [pid, c0] of auxStart) {
        const c1 = safeCpu(pid);
        if (c0 !== null && c1 !== null) p.auxCpu += c1 - c0;
      }
      return p;
    },
  };
}

function safeCpu(pid: number): number | null {
  try {
    return procCpu(pid);
  } catch {
    return null;
  }
}

/** Busy fraction of the machine's cores between start() and stop(). */
export function machineLoad(): { stop(): { busyCores: number } } {
  const a = machineTicks();
  return {
    stop() {
      const b = machineTicks();
      const cores = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).length;
      return { busyCores: ((b.busy - a.busy) / (b.total - a.total)) * cores };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// node --cpu-prof summaries

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The stage a sampled function belongs to. */
export function stageOf(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle (waiting)';
  if (fn === '(program)') return 'V8/native (program)';
  if (fn === 'parse' && !url) return 'parse (JSON.parse)';
  if (/hae\/scanner/.test(url)) return 'scan (find record bounds)';
  if (/hae\/parse-(batch|slices)/.test(url)) return 'parse (JSON.parse)';
  if (/hae\/(map|dates|records)/.test(url) || /records\/(values|dates|bounds|model)/.test(url)) return 'map (records)';
  if (/apple\/(fast-xml|xml-feed)/.test(url) || /saxes/.test(url)) return 'scan (XML tokenizer)';
  if (/apple\//.test(url)) return 'map (records)';
  if (/(load\/(tables|copy-text|batch)|db\/copy-binary)/.test(url)) return 'render COPY rows + batch';
  if (/pg-copy-streams|node_modules\/pg|pg-protocol|pg-pool/.test(url)) return 'COPY client (pg)';
  if (/node:internal\/(streams|net|stream_base|buffer)|node:net|node:stream/.test(url)) return 'streams/socket';
  if (/node:internal\/fs|node:fs|open-input/.test(url)) return 'read file';
  if (/import\/run-import/.test(url) && /wrap|update|digest/.test(fn)) return 'read file';
  if (/node:internal\/crypto|node:crypto/.test(url)) return 'read file';
  if (/load\/|import\//.test(url)) return 'pipeline (load/import)';
  if (!url) return `native: ${fn || '(anonymous)'}`;
  return `other: ${url.replace(/^.*\/(dist|src|node_modules)\//, '').replace(/^node:internal\//, '')}`;
}

/** Self time per stage (ms) of the largest profile in `dir` (the import's). */
export function summariseCpuProfile(dir: string): { stages: Map<string, number>; totalMs: number; file: string } | null {
  let best: string | null = null;
  let bestSize = 0;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.cpuprofile')) continue;
    const s = statSync(path.join(dir, f)).size;
    if (s > bestSize) [best, bestSize] = [path.join(dir, f), s];
  }
  if (!best) return null;
  const prof = JSON.parse(readFileSync(best, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const d = (prof.timeDeltas[i + 1] ?? 0) / 1000;
    selfMs.set(prof.samples[i], (selfMs.get(prof.samples[i]) ?? 0) + d);
  }
  const stages = new Map<string, number>();
  let totalMs = 0;
  for (const [id, ms] of selfMs) {
    const n = byId.get(id)!;
    const st = stageOf(n.callFrame.functionName, n.callFrame.url);
    stages.set(st, (stages.get(st) ?? 0) + ms);
    totalMs += ms;
  }
  return { stages, totalMs, file: best };
}

/** Top functions by self time, for digging further than stages. */
export function topFunctions(file: string, n = 25): { fn: string; url: string; ms: number }[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((x) => [x.id, x]));
  const self = new Map<string, { fn: string; url: string; ms: number }>();
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i])!;
    const key = `${node.callFrame.functionName}@${node.callFrame.url}`;
    const e = self.get(key) ?? { fn: node.callFrame.functionName, url: node.callFrame.url.replace(/.*\/(src|node_modules)\//, '$1/'), ms: 0 };
    e.ms += (prof.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(key, e);
  }
  return [...self.values()].sort((a, b) => b.ms - a.ms).slice(0, n);
}

export function formatDbProfile(p: DbProfile, seconds: number): string {
  const lines: string[] = [];
  const total = [...p.activity.values()].reduce((a, b) => a + b, 0) || 1;
  const perBackendSec = (k: number) => (k / p.samples) * seconds;
  lines.push(`    backend time by activity (backend-seconds, from ${p.samples} samples of pg_stat_activity):`);
  for (const [a, k] of [...p.activity].sort((x, y) => y[1] - x[1])) {
    lines.push(`      ${a.padEnd(58)} ${perBackendSec(k).toFixed(1).padStart(7)} s  ${((100 * k) / total).toFixed(0).padStart(3)} %`);
  }
  const ws = [...p.working].sort((a, b) => a[0] - b[0]);
  lines.push(`    backends doing work at once (share of time): ${ws.map(([w, k]) => `${w}: ${((100 * k) / p.samples).toFixed(0)} %`).join('  ')}`);
  return lines.join('\n');
}
