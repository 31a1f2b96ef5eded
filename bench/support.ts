/** What the benchmarks share: arguments, throwaway databases, timing a child with its peak RSS. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { migrate } from '../src/db/migrations.js';

export const DATA_TABLES = [
  'heart_rate_metrics', 'blood_pressure_metrics', 'sleep_metrics', 'sleep_stages', 'activity_metrics', 'workouts',
  'workout_routes', 'workout_heart_rate', 'workout_series', 'health_events',
];

export function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

export const adminUrl = (): string =>
  arg('database-url', process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

export function databaseUrl(admin: string, name: string): string {
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function dropDatabase(admin: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.end();
}

/** A new, migrated database `name` on the admin connection's server. */
export async function freshDatabase(admin: string, name: string): Promise<string> {
  await dropDatabase(admin, name);
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = databaseUrl(admin, name);
  const pool = new pg.Pool({ connectionString: url });
  await migrate(pool);
  await pool.end();
  return url;
}

export interface Timed {
  seconds: number;
  peakRssMb: number;
  stdout: string;
  code: number | null;
}

/** Runs a command, sampling the peak RSS of it and its children from /proc. */
export function timed(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let peak = 0;
    child.stdout.on('data', (d) => (stdout += d));
    // The CLI runs `import` in a child process (bin/healthexport.js): count the whole tree.
    const treeRssKb = (pid: number): number => {
      let kb = 0;
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) kb += Number(m[1]);
        for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)) {
          kb += treeRssKb(Number(c));
        }
      } catch {
        /* exited */
      }
      return kb;
    };
    const sample = () => {
      peak = Math.max(peak, treeRssKb(child.pid!) / 1024);
    };
    const timer = setInterval(sample, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ seconds: Number(process.hrtime.bigint() - t) / 1e9, peakRssMb: peak, stdout, code });
    });
  });
}

export async function rowCounts(url: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: url });
  let n = 0;
  for (const t of DATA_TABLES) n += Number((await pool.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
  await pool.end();
  return n;
}
